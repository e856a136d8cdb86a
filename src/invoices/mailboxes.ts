import type { Knex } from 'knex';
import type { MailboxSettings } from '../providers/mailbox/port';
import type { SecretBox } from '../providers/mailbox/secret-box';

/**
 * A customer's mailbox as stored: connection settings, the password sealed by the
 * secret box (AES-256-GCM, key id kept), filters, the timezone of its weekday Schedule,
 * and where ingestion stopped. Shared by the API (save, show, remove) and the activities
 * (read), like src/payments is for payments.
 */

export interface MailboxRow {
  user_id: string;
  host: string;
  port: number;
  tls: boolean;
  username: string;
  password_sealed: Buffer;
  password_key_id: string;
  folder: string;
  from_filter: string | null;
  subject_filter: string | null;
  timezone: string;
  uid_validity: string | null;
  last_uid: string;
  last_error: string | null;
  last_error_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface MailboxInput extends MailboxSettings {
  fromFilter?: string | undefined;
  subjectFilter?: string | undefined;
  timezone: string;
}

export async function findMailbox(db: Knex, userId: string): Promise<MailboxRow | undefined> {
  return (await db('mailboxes').where({ user_id: userId }).first()) as MailboxRow | undefined;
}

export function mailboxSettingsOf(row: MailboxRow, secrets: SecretBox): MailboxSettings {
  const password = secrets.open({ sealed: row.password_sealed, keyId: row.password_key_id }, row.user_id);
  return { host: row.host, port: row.port, tls: row.tls, username: row.username, password, folder: row.folder };
}

/**
 * Saves a mailbox. Another server, account or folder is another mailbox: its position
 * starts over (content hashes keep invoices already stored from coming back).
 */
export async function saveMailbox(db: Knex, userId: string, input: MailboxInput, secrets: SecretBox, now: Date): Promise<MailboxRow> {
  const { sealed, keyId } = secrets.seal(input.password, userId);
  const previous = await findMailbox(db, userId);
  const same = previous && previous.host === input.host && previous.port === input.port && previous.username === input.username && previous.folder === input.folder;
  const columns = {
    host: input.host,
    port: input.port,
    tls: input.tls,
    username: input.username,
    password_sealed: sealed,
    password_key_id: keyId,
    folder: input.folder,
    from_filter: input.fromFilter ?? null,
    subject_filter: input.subjectFilter ?? null,
    timezone: input.timezone,
    last_error: null,
    last_error_at: null,
    updated_at: now,
    ...(same ? {} : { uid_validity: null, last_uid: 0 }),
  };
  const [row] = (await db('mailboxes')
    .insert({ user_id: userId, ...columns, uid_validity: null, last_uid: 0 })
    .onConflict('user_id')
    .merge(columns)
    .returning('*')) as MailboxRow[];
  return row as MailboxRow;
}

export async function deleteMailbox(db: Knex, userId: string): Promise<boolean> {
  return (await db('mailboxes').where({ user_id: userId }).delete()) > 0;
}

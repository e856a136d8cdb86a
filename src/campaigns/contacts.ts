import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { Db } from '../db/knex';
import { isValidTimezone } from './send-window';

/**
 * Contacts and their consent. A contact is keyed by its E.164 phone: creating one that
 * exists updates it. Consent is kept per channel with where it came from and when, and
 * only moves by an explicit source (the API, an import, a keyword the contact texted).
 */

export const CHANNELS = ['sms', 'whatsapp'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CONSENT_STATUSES = ['opt_in', 'opt_out', 'pending'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export interface Consent {
  status: ConsentStatus;
  source: string | null;
  at: Date | null;
}

export interface ContactInput {
  phone: string;
  attributes?: Record<string, unknown>;
  timezone?: string;
  consent?: Partial<Record<Channel, { status: ConsentStatus; source?: string }>>;
}

export interface ContactRow {
  id: string;
  phone: string;
  attributes: Record<string, unknown>;
  timezone: string;
  sms_consent: ConsentStatus;
  sms_consent_source: string | null;
  sms_consent_at: Date | null;
  whatsapp_consent: ConsentStatus;
  whatsapp_consent_source: string | null;
  whatsapp_consent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The E.164 form of a phone number, or undefined when libphonenumber finds it invalid. */
export function toE164(raw: string): string | undefined {
  const parsed = parsePhoneNumberFromString(raw.trim(), { defaultCallingCode: undefined });
  return parsed?.isValid() ? parsed.number : undefined;
}

/** A contact's columns from its input, or the reason it cannot be stored. */
export function contactColumns(input: ContactInput, source: string, at: Date): { ok: true; row: Record<string, unknown> } | { ok: false; field: string; reason: string } {
  const phone = toE164(input.phone);
  if (!phone) return { ok: false, field: 'phone', reason: 'not a valid phone number in international (E.164) form' };
  const timezone = input.timezone ?? 'UTC';
  if (!isValidTimezone(timezone)) return { ok: false, field: 'timezone', reason: 'not an IANA timezone' };
  const row: Record<string, unknown> = { phone, attributes: JSON.stringify(input.attributes ?? {}), timezone };
  for (const channel of CHANNELS) {
    const consent = input.consent?.[channel];
    if (!consent) continue;
    row[`${channel}_consent`] = consent.status;
    row[`${channel}_consent_source`] = consent.source ?? source;
    row[`${channel}_consent_at`] = at;
  }
  return { ok: true, row };
}

export const CONSENT_COLUMNS = CHANNELS.flatMap((c) => [`${c}_consent`, `${c}_consent_source`, `${c}_consent_at`]);

/**
 * What a write by phone does to a contact that exists (`insert into contacts as c … on
 * conflict`): attributes and timezone are replaced; each channel's consent only when the
 * row names it (its `_at` is set), else the stored one stays. Shared by the API's upsert
 * and the CSV import's set-based merge.
 */
export const ON_PHONE_CONFLICT = `on conflict (phone) do update set attributes = excluded.attributes, timezone = excluded.timezone, updated_at = now(), ${CONSENT_COLUMNS.map((c) => {
  const given = `excluded.${c.replace(/_consent(_source|_at)?$/, '_consent_at')}`;
  return `${c} = case when ${given} is null then c.${c} else excluded.${c} end`;
}).join(', ')}`;

/**
 * Creates or updates contacts by phone in one statement. Consent columns are written
 * only for the channels a row names; a row that names none keeps the stored consent.
 * Rows of one call must have distinct phones (PostgreSQL refuses to update a row twice).
 */
export async function upsertContacts(db: Db, rows: Array<Record<string, unknown>>): Promise<ContactRow[]> {
  if (rows.length === 0) return [];
  const full = rows.map((row) => {
    const filled: Record<string, unknown> = { ...row, updated_at: db.fn.now() };
    // A consent not given is `pending` on insert and, on update, leaves the stored one
    // (its `_at` is null, which the conflict clause reads as "not given").
    for (const column of CONSENT_COLUMNS) filled[column] ??= column.endsWith('_consent') ? 'pending' : null;
    return filled;
  });
  const insert = db('contacts as c').insert(full);
  // Knex cannot say "keep the old consent unless this row named one", so the conflict clause is written out.
  const { rows: stored } = await db.raw<{ rows: ContactRow[] }>(`? ${ON_PHONE_CONFLICT} returning *`, [insert]);
  return stored;
}

export interface ConsentChange {
  phone: string;
  channel: Channel;
  kind: 'opt_out' | 'opt_in';
  at: Date;
  /** Where the change came from, e.g. `keyword:STOP` or `api`. */
  source: string;
}

/**
 * What a consent keyword does (the inbound webhooks call it): STOP and its kin opt the
 * contact out of the channel, START/YES/UNSTOP opt them back in. A change older than
 * the stored one is ignored, so keywords delivered out of order end in the later one's
 * state. Answers whether a contact changed.
 */
export async function applyConsentKeyword(db: Db, change: ConsentChange): Promise<{ changed: boolean; contactId?: string }> {
  const phone = toE164(change.phone) ?? change.phone;
  const status: ConsentStatus = change.kind === 'opt_out' ? 'opt_out' : 'opt_in';
  const column = `${change.channel}_consent`;
  const [row] = await db('contacts')
    .where({ phone })
    .andWhere((q) => q.whereNull(`${column}_at`).orWhere(`${column}_at`, '<=', change.at))
    .update({ [column]: status, [`${column}_source`]: change.source, [`${column}_at`]: change.at, updated_at: db.fn.now() })
    .returning<Array<{ id: string }>>(['id']);
  return row ? { changed: true, contactId: row.id } : { changed: false };
}

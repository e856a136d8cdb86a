import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../../db/knex';
import { MailboxError, type MailAttachment, type MailboxPort, type MailboxSession, type MailMessage } from '../../providers/mailbox/port';
import type { SecretBox } from '../../providers/mailbox/secret-box';
import { userObjectKey, type ObjectStorage } from '../../providers/storage/port';
import { businessFailure } from '../../temporal/failures';
import { findMailbox, mailboxSettingsOf, type MailboxRow } from '../../invoices/mailboxes';
import { heartbeat } from '../shared/heartbeat';
import type { InvoiceReader } from './reading';

/**
 * One batch of a mailbox's ingestion (docs/invoices.md): the messages after the last UID
 * seen in this UIDVALIDITY, each PDF attachment stored once under the customer's prefix
 * (its key is the hash of its bytes, whatever its filename), read by the issuer
 * templates and saved as an invoice, parsed or `unparsed` with the reason. Anything else
 * is a skip with its reason. The batch commits its position (last UID) with its
 * progress in one transaction at the end, so a retried batch redoes only what was not
 * committed, and the invoice's unique (user, content hash) makes that redo harmless.
 */

export interface IngestionLimits {
  maxAttachmentBytes: number;
  batchMessages: number;
}

export interface IngestBatchInput {
  userId: string;
  ingestionId: string;
}

export interface IngestBatchResult {
  /** No message after the last UID remains. */
  done: boolean;
  /** Parsed invoices found by this ingestion whose notices are still owed. */
  toNotify: string[];
}

interface Tally {
  messagesRead: number;
  invoicesStored: number;
  duplicates: number;
  parsed: number;
  unparsed: number;
}

interface Skip {
  uid: number;
  part: string;
  filename: string | undefined;
  contentType: string | undefined;
  reason: string;
}

const isPdfAttachment = (a: MailAttachment) => a.contentType === 'application/pdf' || (a.contentType === 'application/octet-stream' && /\.pdf$/i.test(a.filename ?? ''));

/** Substring filters, case-insensitive; an unset filter lets every message through. */
export function passesFilters(message: Pick<MailMessage, 'from' | 'subject'>, row: Pick<MailboxRow, 'from_filter' | 'subject_filter'>): boolean {
  const contains = (value: string | undefined, filter: string | null) => !filter || (value ?? '').toLowerCase().includes(filter.toLowerCase());
  return contains(message.from, row.from_filter) && contains(message.subject, row.subject_filter);
}

export interface IngestDeps {
  db: Db;
  storage: ObjectStorage;
  mailbox: MailboxPort;
  secrets: SecretBox;
  reader: InvoiceReader;
  limits: IngestionLimits;
  now: () => Date;
}

export function createIngestion(deps: IngestDeps) {
  const { db, storage } = deps;

  /** Stores one PDF (once per customer and content) and saves its invoice; answers whether it was new. */
  async function storePdf(row: MailboxRow, ingestionId: string, uidValidity: bigint, uid: number, attachment: MailAttachment, content: Buffer, tally: Tally): Promise<void> {
    const hash = createHash('sha256').update(content).digest('hex');
    const existing: { source_folder: string; source_uid_validity: string; source_uid: string } | undefined = await db('invoices')
      .where({ user_id: row.user_id, content_hash: hash })
      .first('source_folder', 'source_uid_validity', 'source_uid');
    // Stored from this very message means a retried batch redoing its work; from any other message, a duplicate.
    const redo = existing && existing.source_folder === row.folder && existing.source_uid_validity === uidValidity.toString() && Number(existing.source_uid) === uid;
    if (existing && !redo) {
      tally.duplicates++;
      return;
    }
    const key = userObjectKey(row.user_id, 'invoices', `${hash}.pdf`);
    await storage.put({ key, body: content, contentType: 'application/pdf', metadata: { 'content-sha256': hash } });
    const reading = await deps.reader.read(content);
    const id = randomUUID();
    await db('invoices')
      .insert({
        id,
        user_id: row.user_id,
        content_hash: hash,
        object_key: key,
        filename: attachment.filename ?? `${hash.slice(0, 12)}.pdf`,
        size_bytes: content.length,
        source_folder: row.folder,
        source_uid_validity: uidValidity.toString(),
        source_uid: uid,
        ingestion_id: ingestionId,
        ...invoiceColumns(reading, deps.now()),
      })
      .onConflict(['user_id', 'content_hash'])
      .ignore();
    tally.invoicesStored++;
    if (reading.status === 'parsed') tally.parsed++;
    else tally.unparsed++;
  }

  async function ingestMessage(session: MailboxSession, row: MailboxRow, ingestionId: string, message: MailMessage, tally: Tally, skips: Skip[]): Promise<void> {
    tally.messagesRead++;
    if (!passesFilters(message, row)) return;
    if (message.malformed) {
      skips.push({ uid: message.uid, part: '-', filename: undefined, contentType: undefined, reason: message.malformed });
      return;
    }
    for (const attachment of message.attachments) {
      const skip = (reason: string) => skips.push({ uid: message.uid, part: attachment.part, filename: attachment.filename, contentType: attachment.contentType, reason });
      if (!isPdfAttachment(attachment)) {
        skip(`not a PDF (${attachment.contentType})`);
        continue;
      }
      if (attachment.sizeBytes > deps.limits.maxAttachmentBytes) {
        skip(`larger than ${deps.limits.maxAttachmentBytes} bytes (about ${attachment.sizeBytes})`);
        continue;
      }
      const content = await session.download(message.uid, attachment.part);
      if (content.length > deps.limits.maxAttachmentBytes) skip(`larger than ${deps.limits.maxAttachmentBytes} bytes (${content.length})`);
      else if (!content.subarray(0, 1024).includes('%PDF-')) skip('named a PDF but its content is not one');
      else await storePdf(row, ingestionId, session.uidValidity, message.uid, attachment, content, tally);
    }
  }

  /** Commits what a batch did: its skips, its progress and the mailbox's new position, together. */
  async function commit(row: MailboxRow, ingestionId: string, uidValidity: bigint, lastUid: number, rescan: boolean, tally: Tally, skips: Skip[]) {
    await db.transaction(async (trx) => {
      if (skips.length > 0) {
        await trx('invoice_skips')
          .insert(skips.map((s) => ({ id: randomUUID(), user_id: row.user_id, ingestion_id: ingestionId, folder: row.folder, uid_validity: uidValidity.toString(), uid: s.uid, part: s.part, filename: s.filename ?? null, content_type: s.contentType ?? null, reason: s.reason })))
          .onConflict(['user_id', 'uid_validity', 'uid', 'part'])
          .ignore();
      }
      await trx('mailboxes').where({ user_id: row.user_id }).update({ uid_validity: uidValidity.toString(), last_uid: lastUid, last_error: null, last_error_at: null, updated_at: deps.now() });
      await trx('invoice_ingestions')
        .where({ id: ingestionId })
        .update({
          messages_read: trx.raw('messages_read + ?', [tally.messagesRead]),
          invoices_stored: trx.raw('invoices_stored + ?', [tally.invoicesStored]),
          duplicates: trx.raw('duplicates + ?', [tally.duplicates]),
          parsed: trx.raw('parsed + ?', [tally.parsed]),
          unparsed: trx.raw('unparsed + ?', [tally.unparsed]),
          skipped: trx.raw('skipped + ?', [skips.length]),
          rescans: trx.raw('rescans + ?', [rescan ? 1 : 0]),
          last_error: null,
        });
    });
  }

  /** Records why the mailbox could not be read, on the mailbox and the ingestion, before Temporal retries. */
  async function recordFailure(userId: string, ingestionId: string, reason: string): Promise<void> {
    await db('mailboxes').where({ user_id: userId }).update({ last_error: reason, last_error_at: deps.now() });
    await db('invoice_ingestions').where({ id: ingestionId }).update({ last_error: reason });
  }

  async function ingestMailboxBatch({ userId, ingestionId }: IngestBatchInput): Promise<IngestBatchResult> {
    const row = await findMailbox(db, userId);
    if (!row) throw businessFailure('mailbox_not_connected', `customer ${userId} has no mailbox connected`);
    let session: MailboxSession;
    try {
      session = await deps.mailbox.open(mailboxSettingsOf(row, deps.secrets));
    } catch (err) {
      const reason = err instanceof MailboxError ? `${err.failure}: ${err.message}` : `unexpected: ${(err as Error).message}`;
      await recordFailure(userId, ingestionId, reason);
      throw new Error(`mailbox of ${userId} could not be opened, will retry: ${reason}`, { cause: err });
    }
    try {
      // A new UIDVALIDITY means the server renumbered the folder: read it all again; content hashes keep each invoice once.
      const rescan = row.uid_validity !== null && BigInt(row.uid_validity) !== session.uidValidity;
      const afterUid = rescan ? 0 : Number(row.last_uid);
      const messages = await session.messagesAfter(afterUid, deps.limits.batchMessages);
      const tally: Tally = { messagesRead: 0, invoicesStored: 0, duplicates: 0, parsed: 0, unparsed: 0 };
      const skips: Skip[] = [];
      for (const message of messages) {
        heartbeat();
        await ingestMessage(session, row, ingestionId, message, tally, skips);
      }
      const lastUid = messages.length > 0 ? (messages[messages.length - 1] as MailMessage).uid : afterUid;
      await commit(row, ingestionId, session.uidValidity, lastUid, rescan, tally, skips);
      const owed = (await db('invoices').where({ user_id: userId, ingestion_id: ingestionId, status: 'parsed' }).whereNull('noticed_at').orderBy('created_at').pluck('id')) as string[];
      return { done: messages.length < deps.limits.batchMessages, toNotify: owed };
    } finally {
      await session.close();
    }
  }

  return { ingestMailboxBatch, recordFailure };
}

/** The invoice columns a reading fills (ingestion and re-parse write the same ones). */
export function invoiceColumns(reading: Awaited<ReturnType<InvoiceReader['read']>>, now: Date) {
  if (reading.status === 'unparsed') return { status: 'unparsed', unparsed_reason: reading.reason, template_id: reading.templateId ?? null };
  return {
    status: 'parsed',
    unparsed_reason: null,
    template_id: reading.templateId,
    issuer: reading.issuer,
    invoice_number: reading.invoiceNumber,
    amount_due_minor: reading.amountDueMinor.toString(),
    currency: reading.currency,
    due_date: reading.dueDate,
    payment_reference: reading.paymentReference,
    period: reading.period ?? null,
    biller_id: reading.billerId ?? null,
    line_items: JSON.stringify(reading.lineItems.map((l) => ({ name: l.name, amountMinor: l.amountMinor.toString() }))),
    parsed_at: now,
  };
}

export type Ingestion = ReturnType<typeof createIngestion>;

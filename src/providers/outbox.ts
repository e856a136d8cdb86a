import { emitBusinessEvent } from '../observability/business-events';
import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex';

/**
 * The `notifications` table as an outbox: every message finflow sends is claimed here
 * under its dedupe key before any provider sees it, and its row then follows the
 * message's life. Statuses only move forward:
 *
 *   queued → sent → delivered | undelivered | failed
 *   queued → delivered | undelivered | failed      (a receipt or a final failure)
 *
 * so a late or repeated receipt never undoes a later one.
 */

export const NOTIFICATION_STATUSES = ['queued', 'sent', 'delivered', 'undelivered', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** A status a delivery receipt may report. */
export type ReceiptStatus = Exclude<NotificationStatus, 'queued'>;

export interface NotificationRow {
  id: string;
  dedupe_key: string;
  user_id: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
  status: NotificationStatus;
  provider: string | null;
  provider_message_id: string | null;
  error_reason: string | null;
  attempts: number;
  created_at: Date;
  updated_at: Date;
  delivered_at: Date | null;
  /** While a provider call is in flight: until when no other attempt may start one. */
  sending_until: Date | null;
}

export interface NewNotification {
  dedupeKey: string;
  userId: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
}

/** The statuses each receipt status may replace. */
const RECEIPT_FROM: Record<ReceiptStatus, NotificationStatus[]> = {
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  undelivered: ['queued', 'sent'],
  failed: ['queued', 'sent'],
};

export function createOutbox(db: Db) {
  const table = () => db<NotificationRow>('notifications');
  /** A message's row as first written: claimed under its dedupe key with `status`. */
  const newRow = (message: NewNotification, status: NotificationStatus) => ({
    id: randomUUID(),
    dedupe_key: message.dedupeKey,
    user_id: message.userId,
    channel: message.channel,
    recipient: message.recipient,
    template: message.template,
    body: message.body,
    status,
  });

  return {
    /**
     * Claims the dedupe key: inserts the row unless the key exists, then returns the
     * row either way. `claimed` is true only for the caller whose insert won.
     */
    async claim(message: NewNotification, status: NotificationStatus): Promise<{ row: NotificationRow; claimed: boolean }> {
      const inserted = await table()
        .insert(newRow(message, status))
        .onConflict('dedupe_key')
        .ignore()
        .returning('*');
      if (inserted[0]) {
        emitBusinessEvent({ kind: 'message_status', channel: message.channel, status });
        return { row: inserted[0], claimed: true };
      }
      const existing = await table().where({ dedupe_key: message.dedupeKey }).first();
      if (!existing) throw new Error(`notification ${message.dedupeKey} vanished after its claim`);
      return { row: existing, claimed: false };
    },

    /**
     * Claims several dedupe keys in one write, as `claim` does each. A row this call
     * inserts as `queued` also takes its first sending lease (`beginAttempt`), so its
     * provider call needs no second write. Answers in the order of `messages`.
     */
    async claimMany(
      messages: ReadonlyArray<{ message: NewNotification; status: NotificationStatus }>,
      leaseMs: number,
    ): Promise<Array<{ row: NotificationRow; claimed: boolean }>> {
      if (messages.length === 0) return [];
      const lease = db.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]);
      const inserted: NotificationRow[] = await table()
        .insert(
          messages.map(({ message, status }) => ({ ...newRow(message, status), ...(status === 'queued' ? { attempts: 1, sending_until: lease } : {}) })),
        )
        .onConflict('dedupe_key')
        .ignore()
        .returning('*');
      for (const row of inserted) emitBusinessEvent({ kind: 'message_status', channel: row.channel, status: row.status });
      const claimedKeys = new Set(inserted.map((row) => row.dedupe_key));
      const earlierKeys = messages.map(({ message }) => message.dedupeKey).filter((key) => !claimedKeys.has(key));
      const earlier: NotificationRow[] = earlierKeys.length > 0 ? await table().whereIn('dedupe_key', earlierKeys) : [];
      const byKey = new Map([...inserted, ...earlier].map((row) => [row.dedupe_key, row]));
      return messages.map(({ message }) => {
        const row = byKey.get(message.dedupeKey);
        if (!row) throw new Error(`notification ${message.dedupeKey} vanished after its claim`);
        return { row, claimed: claimedKeys.has(message.dedupeKey) };
      });
    },

    async findByDedupeKey(dedupeKey: string): Promise<NotificationRow | undefined> {
      return table().where({ dedupe_key: dedupeKey }).first();
    },

    /**
     * Takes the sending lease and counts one provider call. Undefined when the row is no
     * longer queued or another attempt holds an unexpired lease. The lease outlives any
     * provider timeout; it only matters when a worker died mid-call, and then delays
     * the retry until it expires.
     */
    async beginAttempt(id: string, leaseMs: number): Promise<NotificationRow | undefined> {
      const [row] = await table()
        .where({ id, status: 'queued' })
        .andWhere((q) => q.whereNull('sending_until').orWhere('sending_until', '<', db.fn.now()))
        .update({
          attempts: db.raw('attempts + 1'),
          sending_until: db.raw(`now() + make_interval(secs => ?)`, [leaseMs / 1000]),
          updated_at: db.fn.now(),
        })
        .returning('*');
      return row;
    },

    /**
     * Records that the provider accepted the message. A receipt may already have
     * arrived (the sandbox writes one while sending), so only a queued row becomes
     * `sent`; the provider's id is written either way.
     */
    async markSent(id: string, provider: string, providerMessageId: string): Promise<NotificationRow> {
      const [row] = await table()
        .where({ id })
        .update({
          provider,
          provider_message_id: providerMessageId,
          status: db.raw(`case when status = 'queued' then 'sent' else status end`),
          error_reason: db.raw(`case when status = 'queued' then null else error_reason end`),
          sending_until: null,
          updated_at: db.fn.now(),
        })
        .returning('*');
      if (!row) throw new Error(`notification ${id} vanished while sending`);
      emitBusinessEvent({ kind: 'message_status', channel: row.channel, status: row.status });
      return row;
    },

    /** Records why a provider call failed and frees the lease; `final` also marks the row `failed`. */
    async recordAttemptFailure(id: string, reason: string, final: boolean): Promise<void> {
      const [row] = await table()
        .where({ id, status: 'queued' })
        .update({ error_reason: reason, sending_until: null, updated_at: db.fn.now(), ...(final ? { status: 'failed' } : {}) })
        .returning(['channel', 'status']);
      if (row && final) emitBusinessEvent({ kind: 'message_status', channel: row.channel, status: row.status });
    },

    /**
     * Marks a message that never left `queued` as failed for good (retries exhausted).
     * A row the provider already took keeps its status, and so does one whose provider
     * call is still in flight. Undefined for an unknown key.
     */
    async recordFinalFailure(dedupeKey: string, reason: string): Promise<NotificationRow | undefined> {
      const [row] = await table()
        .where({ dedupe_key: dedupeKey, status: 'queued' })
        .andWhere((q) => q.whereNull('sending_until').orWhere('sending_until', '<', db.fn.now()))
        .update({ status: 'failed', error_reason: reason, updated_at: db.fn.now() })
        .returning('*');
      return row ?? (await this.findByDedupeKey(dedupeKey));
    },

    /**
     * Applies a delivery receipt to the row it names. `matched` says whether such a row
     * exists; `applied` whether its status moved (a repeated or late receipt does not).
     */
    async applyReceipt(
      target: { provider: string; providerMessageId: string } | { dedupeKey: string },
      receipt: { status: ReceiptStatus; errorReason?: string | null; provider?: string; providerMessageId?: string },
    ): Promise<{ matched: boolean; applied: boolean; row?: NotificationRow }> {
      const where =
        'dedupeKey' in target
          ? { dedupe_key: target.dedupeKey }
          : { provider: target.provider, provider_message_id: target.providerMessageId };
      const [row] = await table()
        .where(where)
        .whereIn('status', RECEIPT_FROM[receipt.status])
        .update({
          status: receipt.status,
          error_reason: receipt.status === 'delivered' || receipt.status === 'sent' ? null : (receipt.errorReason ?? receipt.status),
          ...(receipt.status === 'delivered' ? { delivered_at: db.fn.now() } : {}),
          ...(receipt.provider ? { provider: receipt.provider } : {}),
          ...(receipt.providerMessageId ? { provider_message_id: receipt.providerMessageId } : {}),
          updated_at: db.fn.now(),
        })
        .returning('*');
      if (row) {
        emitBusinessEvent({ kind: 'message_status', channel: row.channel, status: row.status });
        return { matched: true, applied: true, row };
      }
      const existing = await table().where(where).first();
      return existing ? { matched: true, applied: false, row: existing } : { matched: false, applied: false };
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;

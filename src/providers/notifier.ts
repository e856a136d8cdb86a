import type { Db } from '../db/knex';
import { ApplicationFailure } from '@temporalio/common';
import { businessFailure } from '../temporal/failures';
import { createOutbox, type NotificationRow, type NotificationStatus } from './outbox';
import { SmsSendError, type SmsProvider } from './sms/port';
import { EmailSendError, type EmailProvider } from './email/port';

/**
 * The notifier port: how finflow tells a customer something. Every message is claimed
 * in the `notifications` outbox under `dedupeKey` (`<workflowId>:<step>`) before any
 * provider sees it, so a retried activity sends at most once per key. SMS goes through
 * the SMS port (sandbox or Plivo), email through the email port (sandbox or SMTP); a
 * notifier built without an email port only records emails.
 */
export interface OutboundMessage {
  dedupeKey: string;
  userId: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
}

export interface SentMessage {
  id: string;
  status: NotificationStatus;
  /** False when this dedupe key had been sent before and nothing new went out. */
  fresh: boolean;
}

export interface Notifier {
  send(message: OutboundMessage): Promise<SentMessage>;
  /**
   * Sends several messages as `send` does each, claiming them all in one outbox write.
   * Every message is tried; a provider that refused one for good leaves it `failed`
   * with the reason (its result says so), while a failure worth retrying is thrown once
   * the others are done, so a retry sends only what is still queued.
   */
  sendMany(messages: readonly OutboundMessage[]): Promise<Array<SentMessage | { failed: string }>>;
  /**
   * Marks a message that never reached a provider as failed for good, with the reason;
   * a message a provider already took keeps its status. Null for an unknown key.
   */
  recordFailure(dedupeKey: string, reason: string): Promise<{ id: string; status: NotificationStatus } | null>;
}

/** A provider's refusal that no retry can change (recorded `failed` on the row). */
const isFinalRefusal = (err: unknown) => err instanceof ApplicationFailure && err.nonRetryable === true;

const sentMessage = (row: NotificationRow, fresh: boolean): SentMessage => ({ id: row.id, status: row.status, fresh });

/** How long one provider call may hold a message before another attempt may send it. */
const DEFAULT_SEND_LEASE_MS = 60_000;

export interface NotifierDeps {
  db: Db;
  sms: SmsProvider;
  email?: EmailProvider;
  /** Sending lease; longer than any provider call's timeout. */
  sendLeaseMs?: number;
}

/** Email subjects by template; the outbox keeps template and body, so a retry rebuilds the same mail. */
const EMAIL_SUBJECTS: Record<string, string> = {
  verification_code: 'Your finflow verification code',
  invoice_received: 'A new invoice arrived in your mailbox',
};

export function createNotifier({ db, sms, email, sendLeaseMs = DEFAULT_SEND_LEASE_MS }: NotifierDeps): Notifier {
  const outbox = createOutbox(db);

  /**
   * One provider call for a queued row. What is sent is the claimed row's recipient and
   * body, not the caller's: a retry after a failure sends what the outbox recorded.
   */
  async function sendQueued(row: NotificationRow): Promise<SentMessage> {
    const attempt = await outbox.beginAttempt(row.id, sendLeaseMs);
    if (!attempt) {
      const current = (await outbox.findByDedupeKey(row.dedupe_key)) ?? row;
      // Another attempt finished first (or a receipt arrived): nothing new goes out.
      if (current.status !== 'queued') return sentMessage(current, false);
      // Another attempt is mid-call. Retrying later sees how that call ended.
      throw new Error(`${row.channel} ${row.dedupe_key} is being sent by another attempt; retry later`);
    }
    return deliver(attempt);
  }

  /** The provider call of an attempt that holds the row's sending lease. */
  async function deliver(attempt: NotificationRow): Promise<SentMessage> {
    // An earlier attempt may have reached the provider and lost its answer (a timeout, a
    // worker killed mid-call): a provider that can be asked is asked before sending again.
    if (attempt.attempts > 1 && attempt.channel !== 'email' && sms.lookup) {
      const earlier = await sms.lookup(attempt.dedupe_key);
      if (earlier) return sentMessage(await outbox.markSent(attempt.id, sms.name, earlier.providerMessageId), true);
    }
    let provider: string;
    let providerMessageId: string;
    try {
      if (attempt.channel === 'email' && email) {
        provider = email.name;
        const subject = EMAIL_SUBJECTS[attempt.template] ?? 'A message from finflow';
        ({ providerMessageId } = await email.send({ to: attempt.recipient, subject, text: attempt.body, reference: attempt.dedupe_key }));
      } else {
        provider = sms.name;
        ({ providerMessageId } = await sms.send({ to: attempt.recipient, body: attempt.body, reference: attempt.dedupe_key }));
      }
    } catch (err) {
      throw await recordFailedAttempt(attempt, err);
    }
    // Outside the try: once the provider has the message, a failure to record it must
    // not free the lease at once, or the retry would send it a second time.
    return sentMessage(await outbox.markSent(attempt.id, provider, providerMessageId), true);
  }

  /** Records a failed provider call and returns what to throw: Temporal retries only a plain Error. */
  async function recordFailedAttempt(attempt: NotificationRow, err: unknown): Promise<unknown> {
    const failure = err instanceof SmsSendError || err instanceof EmailSendError ? err : undefined;
    const reason = failure ? failure.description : `unexpected: ${err instanceof Error ? err.message : String(err)}`;
    const final = failure ? !failure.retryable : false;
    await outbox.recordAttemptFailure(attempt.id, reason, final);
    if (final) {
      const type = attempt.channel === 'email' ? 'email_rejected' : 'sms_rejected';
      return businessFailure(type, `${attempt.channel} ${attempt.dedupe_key} was rejected: ${reason}`, {
        dedupeKey: attempt.dedupe_key,
        reason: failure?.reason,
      });
    }
    return failure ? new Error(`${attempt.channel} ${attempt.dedupe_key} failed, will retry: ${reason}`) : err;
  }

  return {
    async sendMany(messages) {
      const wanted = messages.map((message) => ({ message, status: message.channel === 'sms' || email ? ('queued' as const) : ('sent' as const) }));
      const claims = await outbox.claimMany(wanted, sendLeaseMs);
      const settled = await Promise.allSettled(
        claims.map(({ row, claimed }) => {
          if (row.status !== 'queued') return Promise.resolve(sentMessage(row, claimed));
          // A row this call claimed holds its lease already; one claimed before goes the usual way.
          return claimed ? deliver(row) : sendQueued(row);
        }),
      );
      const retryable = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected' && !isFinalRefusal(s.reason));
      if (retryable) throw retryable.reason;
      return settled.map((s) => (s.status === 'fulfilled' ? s.value : { failed: (s.reason as Error).message }));
    },

    async send(message) {
      // Without an email port, the outbox row is the whole of "sending" an email.
      const { row, claimed } = await outbox.claim(message, message.channel === 'sms' || email ? 'queued' : 'sent');
      if (row.status !== 'queued') return sentMessage(row, claimed);
      return sendQueued(row);
    },

    async recordFailure(dedupeKey, reason) {
      const row = await outbox.recordFinalFailure(dedupeKey, reason);
      return row ? { id: row.id, status: row.status } : null;
    },
  };
}

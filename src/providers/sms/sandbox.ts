import { createHash } from 'node:crypto';
import type { Db } from '../../db/knex';
import { createOutbox, type ReceiptStatus } from '../outbox';
import { SmsSendError, type SmsLookup, type SmsMessage, type SmsProvider, type SmsSendResult } from './port';

/**
 * The sandbox SMS provider: no network, and an outcome scripted by the recipient's last
 * four digits, so tests and demos can provoke every path (docs/sms.md lists them):
 *
 *   …0001  rejected for good: `invalid_number`
 *   …0002  fails (retryable) on the first send of a reference, then is accepted
 *   …0003  accepted, then its delivery receipt says `undelivered`
 *   …0004  rejected for good: `blocked`
 *   other  accepted and delivered
 *
 * Its delivery receipt is written to the outbox row (found by the reference, which is
 * the dedupe key) synchronously, inside send(): a real receipt arrives seconds later,
 * but an immediate one keeps tests free of waiting and the statuses only move forward.
 */

type Script =
  | { outcome: 'rejected'; reason: 'invalid_number' | 'blocked'; detail: string }
  | { outcome: 'accepted'; failFirstSend: boolean; receipt: Extract<ReceiptStatus, 'delivered' | 'undelivered'> };

const SCRIPTS: Record<string, Script> = {
  '0001': { outcome: 'rejected', reason: 'invalid_number', detail: 'sandbox: the number does not exist' },
  '0002': { outcome: 'accepted', failFirstSend: true, receipt: 'delivered' },
  '0003': { outcome: 'accepted', failFirstSend: false, receipt: 'undelivered' },
  '0004': { outcome: 'rejected', reason: 'blocked', detail: 'sandbox: the recipient has blocked this sender' },
};
const DELIVERED: Script = { outcome: 'accepted', failFirstSend: false, receipt: 'delivered' };

/** The error reason a sandbox `undelivered` receipt records. */
export const SANDBOX_UNDELIVERED_REASON = 'sandbox: handset unreachable';

export function scriptFor(to: string): Script {
  return SCRIPTS[to.slice(-4)] ?? DELIVERED;
}

/** Deterministic per reference, so a repeated send of one message reuses its id. */
export function sandboxMessageId(reference: string): string {
  return `sandbox-${createHash('sha256').update(reference).digest('hex').slice(0, 32)}`;
}

export function createSandboxSms({ db }: { db: Db }): SmsProvider {
  const outbox = createOutbox(db);
  // References of fail-once numbers this instance has already failed. In memory on
  // purpose: a worker holds one sandbox, so a retried activity meets the same instance
  // (a restarted worker fails such a message once more, which the retry absorbs).
  const failedOnce = new Set<string>();

  return {
    name: 'sandbox',
    channels: ['sms', 'whatsapp'],
    async send(message: SmsMessage): Promise<SmsSendResult> {
      const script = scriptFor(message.to);
      if (script.outcome === 'rejected') throw new SmsSendError(script.reason, false, script.detail);
      if (script.failFirstSend && !failedOnce.has(message.reference)) {
        failedOnce.add(message.reference);
        throw new SmsSendError('provider_error', true, 'sandbox: simulated outage on the first attempt');
      }

      const providerMessageId = sandboxMessageId(message.reference);
      // What the sandbox "sent", where the API and lookups find it; a second send of one
      // reference counts up `sends`, which is how tests and the benchmark see duplicates.
      await db.raw(
        `insert into sandbox_sms_messages (reference, channel, to_phone, body, provider_message_id, status) values (?, ?, ?, ?, ?, ?)
         on conflict (reference) do update set sends = sandbox_sms_messages.sends + 1`,
        [message.reference, message.channel ?? 'sms', message.to, message.body, providerMessageId, script.receipt],
      );
      await outbox.applyReceipt(
        { dedupeKey: message.reference },
        {
          status: script.receipt,
          errorReason: script.receipt === 'undelivered' ? SANDBOX_UNDELIVERED_REASON : null,
          provider: 'sandbox',
          providerMessageId,
        },
      );
      return { providerMessageId };
    },
    async lookup(reference: string): Promise<SmsLookup | undefined> {
      const row = await db('sandbox_sms_messages').where({ reference }).first<{ provider_message_id: string; status: SmsLookup['status'] } | undefined>();
      return row ? { providerMessageId: row.provider_message_id, status: row.status } : undefined;
    },
  };
}

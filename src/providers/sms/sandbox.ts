import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { applyCampaignReceipts, isCampaignReference, type MessageReceipt } from '../../campaigns/repository';
import { groupCommit } from '../../db/group-commit';
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
 *
 * A campaign message's receipts (when `receipts` is set, as config does) go through
 * applyCampaignReceipt, the path the Twilio and Plivo callbacks take: `delivered`, then
 * `read` on WhatsApp, or `failed` for …0003 and for `failedPercent` of the others (chosen
 * by the reference, so a run is reproducible). With `delayMs` 0 they are applied before
 * send() answers and wait in the receipt backlog until the batch records the send; else
 * they arrive that much later, as a provider's callback would. A delayed receipt lives
 * in this process only, and is lost with it, like a callback a provider never makes.
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

export interface SandboxSmsOptions {
  db: Db;
  /** Simulated receipts for campaign messages; absent, none (their status stays `sent`). */
  receipts?: { delayMs: number; failedPercent: number };
  /** How long each send takes before it answers, as a provider's API call would. */
  latencyMs?: number;
}

/** Whether a reference falls in the first `percent` of 100 buckets (by its hash). */
function inShare(reference: string, percent: number): boolean {
  return percent > 0 && createHash('sha256').update(reference).digest().readUInt16BE(0) % 100 < percent;
}

/** The receipts the sandbox's provider would post for an accepted campaign message. */
function campaignReceipts(message: SmsMessage, script: Script, failedPercent: number, providerMessageId: string): MessageReceipt[] {
  const raw = { provider: 'sandbox', reference: message.reference, providerMessageId };
  if ((script.outcome === 'accepted' && script.receipt === 'undelivered') || inShare(message.reference, failedPercent)) {
    return [{ providerMessageId, status: 'failed', errorReason: SANDBOX_UNDELIVERED_REASON, raw: { ...raw, status: 'failed' } }];
  }
  const delivered: MessageReceipt = { providerMessageId, status: 'delivered', raw: { ...raw, status: 'delivered' } };
  return message.channel === 'whatsapp' ? [delivered, { providerMessageId, status: 'read', raw: { ...raw, status: 'read' } }] : [delivered];
}

interface SentRecord {
  message: SmsMessage;
  providerMessageId: string;
  status: 'delivered' | 'undelivered';
  receipts: MessageReceipt[];
}

export function createSandboxSms({ db, receipts, latencyMs = 0 }: SandboxSmsOptions): SmsProvider {
  const outbox = createOutbox(db);
  const postReceipts = (list: MessageReceipt[]) => applyCampaignReceipts(db, 'sandbox', list, { park: true });
  // What the sandbox "sent", where the API and lookups find it, written for many sends at
  // once (group commit); a second send of one reference counts up `sends`, which is how
  // tests and the benchmark see duplicates. Receipts due at once go with their rows.
  const record = groupCommit<SentRecord, void>(async (records) => {
    const rows = records.map(({ message, providerMessageId, status }) => ({ reference: message.reference, channel: message.channel ?? 'sms', to_phone: message.to, body: message.body, provider_message_id: providerMessageId, status }));
    await db.raw(
      `insert into sandbox_sms_messages (reference, channel, to_phone, body, provider_message_id, status)
       select reference, channel, to_phone, body, provider_message_id, status
         from jsonb_to_recordset(?::jsonb) as r (reference text, channel text, to_phone text, body text, provider_message_id text, status text)
       on conflict (reference) do update set sends = sandbox_sms_messages.sends + 1`,
      [JSON.stringify(rows)],
    );
    const due = records.flatMap((r) => r.receipts);
    if (!receipts || due.length === 0) return records.map(() => undefined);
    if (receipts.delayMs === 0) await postReceipts(due);
    // A provider's callback, later: its failure is the provider's, not these sends'.
    else setTimeout(() => void postReceipts(due).catch(() => undefined), receipts.delayMs).unref();
    return records.map(() => undefined);
  }, (r) => r.message.reference);
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

      if (latencyMs > 0) await sleep(latencyMs);
      const providerMessageId = sandboxMessageId(message.reference);
      const campaign = receipts && isCampaignReference(message.reference) ? campaignReceipts(message, script, receipts.failedPercent, providerMessageId) : [];
      const status = campaign.some((r) => r.status === 'failed') ? 'undelivered' : script.receipt;
      await record({ message, providerMessageId, status, receipts: campaign });
      // A campaign message has no outbox row: its receipts went with the record.
      if (isCampaignReference(message.reference)) return { providerMessageId };
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

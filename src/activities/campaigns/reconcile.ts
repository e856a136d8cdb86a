import type { Db } from '../../db/knex';
import { applyParkedReceipts, messageReference } from '../../campaigns/repository';
import type { SmsProvider } from '../../providers/sms';

/**
 * Claims whose outcome is unknown: `sending` rows older than `staleClaimMs` (the attempt
 * that claimed them died, or its provider call timed out). Each is settled from what the
 * provider says it holds under the message's reference — sent (with its id and status)
 * or never taken, in which case it was not sent and is queued again. A provider that
 * cannot be asked leaves the message `failed` with `unknown_outcome`: at most once wins
 * over at least once.
 */
export async function reconcileStaleClaims(input: { db: Db; sms: SmsProvider; campaignId: string; range: { from: number; to: number }; staleClaimMs: number }): Promise<number> {
  const { db, sms, campaignId, range } = input;
  const stale = await db('campaign_messages')
    .where({ campaign_id: campaignId, status: 'sending' })
    .whereBetween('seq', [range.from, range.to])
    .andWhere('claimed_at', '<', db.raw(`clock_timestamp() - make_interval(secs => ?)`, [input.staleClaimMs / 1000]))
    .select<Array<{ seq: number; contact_id: string }>>('seq', 'contact_id');
  for (const { seq, contact_id: contactId } of stale) {
    const found = sms.lookup ? await sms.lookup(messageReference(campaignId, contactId)) : undefined;
    const update = found
      ? { status: found.status === 'undelivered' ? 'failed' : found.status, provider: sms.name, provider_message_id: found.providerMessageId, sent_at: db.fn.now(), error_reason: found.status === 'undelivered' ? 'undelivered (reconciled)' : null }
      : sms.lookup
        ? // The provider says it never took the message: it was not sent, so it may go (once) now.
          { status: 'queued', claimed_at: null }
        : { status: 'failed', error_reason: 'unknown_outcome: the provider cannot be asked; not sent again' };
    await db('campaign_messages').where({ campaign_id: campaignId, seq, status: 'sending' }).update({ ...update, updated_at: db.fn.now() });
    // Receipts the provider posted before the send was recorded waited for its id.
    if (found) await applyParkedReceipts(db, sms.name, [found.providerMessageId]);
  }
  return stale.length;
}

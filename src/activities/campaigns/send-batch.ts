import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { Db } from '../../db/knex';
import type { Channel } from '../../campaigns/contacts';
import { findCampaign, findTemplate, messageReference, type CampaignRow, type MessageStatus } from '../../campaigns/repository';
import { reserveSendSlot } from '../../campaigns/send-pacing';
import { nextSendableAt } from '../../campaigns/send-window';
import { render, smsSegments } from '../../campaigns/templates';
import { SmsSendError, type SmsProvider } from '../../providers/sms';
import type { CampaignBatchInput, CampaignBatchResult } from '../../workflows/campaigns/contract';
import { reconcileStaleClaims } from './reconcile';

/**
 * Sends one batch of a campaign (docs/campaigns.md, "Sending"): `batchSize` messages, in chunks of a quarter second's worth at the sender's
 * rate. For each chunk, at the moment of sending:
 *
 *   1. messages whose contact is inside quiet hours / outside the send window now wait
 *      (`waiting_window`, `not_before` = when their window opens);
 *   2. a message whose template does not render for its contact is `skipped_render_error`;
 *   3. the rest are claimed (`sending`) in one committed statement that also requires
 *      the contact's consent for the channel — a STOP that arrived a moment ago leaves
 *      its message unclaimed and it becomes `skipped_no_consent`;
 *   4. a slot is reserved in the sender's bucket and each claimed message goes out at
 *      its due time; the outcomes are written in one statement.
 *
 * A claim whose outcome is unknown (the worker died, the call timed out) is never sent
 * again: reconcile.ts asks the provider and records what it says.
 */

export interface CampaignSendSettings {
  /** The sender's limit: messages per second across all workers (CAMPAIGN_SENDER_RATE_PER_SECOND). */
  senderRatePerSecond: number;
  /** How old a `sending` claim must be before it is reconciled rather than awaited. */
  staleClaimMs: number;
  /** How long one activity call sends before handing back to its workflow. */
  activityBudgetMs: number;
  /** Messages per batch, fixed at planning (rollout.ts). */
  batchSize?: number;
}

export const DEFAULT_SEND_SETTINGS: CampaignSendSettings = { senderRatePerSecond: 10, staleClaimMs: 60_000, activityBudgetMs: 60_000 };

export interface SendBatchInput extends CampaignBatchInput {
  /** The workflow's clock (ISO): "now" for send windows, so a time-skipped test is honoured. */
  at: string;
}

interface Candidate {
  seq: number;
  contact_id: string;
  phone: string;
  attributes: Record<string, unknown>;
  timezone: string;
}

interface Outcome {
  seq: number;
  status: MessageStatus;
  providerMessageId?: string;
  reason?: string;
  segments?: number;
}

const PENDING: MessageStatus[] = ['queued', 'waiting_window'];

/**
 * Sends are paced at 90 % of the sender's limit, in mini-slots of about 10 ms of it, and
 * a message more than 50 ms past its slot's start takes a new slot: whatever the
 * scheduling jitter up to that tolerance, no one-second window (as the provider sees it)
 * holds more than the limit.
 */
const PACING_HEADROOM = 0.9;
const LATE_TOLERANCE_MS = 50;

export interface SendBatchDeps {
  db: Db;
  sms?: SmsProvider;
  now: () => Date;
  campaignSend?: Partial<CampaignSendSettings>;
}

export function createSendBatchActivities(deps: SendBatchDeps) {
  const settings = { ...DEFAULT_SEND_SETTINGS, ...deps.campaignSend };
  const { db } = deps;

  return {
    async sendCampaignBatch(input: SendBatchInput): Promise<CampaignBatchResult> {
      const sms = deps.sms;
      if (!sms) throw new Error('sendCampaignBatch needs the SMS port');
      const range = { from: input.batch * input.batchSize + 1, to: (input.batch + 1) * input.batchSize };
      const startedMs = Date.now();
      // The later of the workflow's clock and ours, plus the time this call has run.
      const now = () => new Date(Math.max(Date.parse(input.at), deps.now().getTime()) + (Date.now() - startedMs));

      await reconcileStaleClaims({ db, sms, campaignId: input.campaignId, range, staleClaimMs: settings.staleClaimMs });
      for (;;) {
        const campaign = await findCampaign(db, input.campaignId);
        if (!campaign || campaign.status === 'cancelled') return { outcome: 'cancelled' };
        if (campaign.status === 'paused') return { outcome: 'paused' };
        const rate = Math.min(campaign.rate_per_second ?? settings.senderRatePerSecond, settings.senderRatePerSecond);
        const chunk = await nextChunk(db, campaign.id, range, now(), Math.max(1, Math.min(200, Math.floor(rate / 4))));
        if (chunk.length === 0) return settle(db, campaign.id, range, settings.staleClaimMs);
        await sendChunk({ db, sms, campaign, chunk, now: now(), rate, staleClaimMs: settings.staleClaimMs });
        Context.current().heartbeat();
        if (Date.now() - startedMs > settings.activityBudgetMs) return { outcome: 'waiting', dueAt: now().toISOString() };
      }
    },
  };
}

/** The next messages of the range that may be looked at now, with their contacts. */
function nextChunk(db: Db, campaignId: string, range: { from: number; to: number }, now: Date, size: number): Promise<Candidate[]> {
  return db('campaign_messages as m')
    .join('contacts as c', 'c.id', 'm.contact_id')
    .where('m.campaign_id', campaignId)
    .whereBetween('m.seq', [range.from, range.to])
    .whereIn('m.status', PENDING)
    .andWhere((q) => q.whereNull('m.not_before').orWhere('m.not_before', '<=', now))
    .orderBy('m.seq')
    .limit(size)
    .select('m.seq', 'm.contact_id', 'c.phone', 'c.attributes', 'c.timezone');
}

async function sendChunk({ db, sms, campaign, chunk, now, rate, staleClaimMs }: { db: Db; sms: SmsProvider; campaign: CampaignRow; chunk: Candidate[]; now: Date; rate: number; staleClaimMs: number }): Promise<void> {
  const template = await findTemplate(db, campaign.template_id);
  if (!template) throw new Error(`template ${campaign.template_id} not found`);
  const rules = { quietHours: campaign.quiet_hours, sendWindow: campaign.send_window };
  const windows = new Map<string, Date | undefined>();
  const outcomes: Outcome[] = [];
  const waits: Array<{ seq: number; notBefore: Date }> = [];
  const ready: Array<Candidate & { text: string }> = [];
  for (const candidate of chunk) {
    if (!windows.has(candidate.timezone)) windows.set(candidate.timezone, nextSendableAt(now, candidate.timezone, rules));
    const opens = windows.get(candidate.timezone);
    if (!opens) {
      outcomes.push({ seq: candidate.seq, status: 'failed', reason: 'no_send_window: the rules never allow a send in this timezone' });
      continue;
    }
    if (opens > now) {
      waits.push({ seq: candidate.seq, notBefore: opens });
      continue;
    }
    const rendered = render(template.body, candidate);
    if (rendered.ok) ready.push({ ...candidate, text: rendered.text });
    else outcomes.push({ seq: candidate.seq, status: 'skipped_render_error', reason: rendered.reason });
  }
  await markWaiting(db, campaign.id, waits);

  const claimed = await claim(db, campaign, ready.map((r) => r.seq), now);
  for (const candidate of ready) {
    if (!claimed.has(candidate.seq)) outcomes.push({ seq: candidate.seq, status: 'skipped_no_consent', reason: `no ${campaign.channel} consent at send time` });
  }
  const toSend = ready.filter((r) => claimed.has(r.seq));
  try {
    outcomes.push(...(await sendPaced(db, sms, campaign, toSend, rate, staleClaimMs)));
  } finally {
    await recordOutcomes(db, campaign.id, sms.name, outcomes);
  }
}

async function markWaiting(db: Db, campaignId: string, waits: Array<{ seq: number; notBefore: Date }>): Promise<void> {
  const byTime = new Map<number, number[]>();
  for (const { seq, notBefore } of waits) byTime.set(notBefore.getTime(), [...(byTime.get(notBefore.getTime()) ?? []), seq]);
  for (const [time, seqs] of byTime) {
    await db('campaign_messages')
      .where({ campaign_id: campaignId })
      .whereIn('seq', seqs)
      .whereIn('status', PENDING)
      .update({ status: 'waiting_window', not_before: new Date(time), updated_at: db.fn.now() });
  }
}

/**
 * The claim: pending messages whose contact has consent for the channel become
 * `sending`, committed before any provider call. Answers the claimed seqs.
 */
async function claim(db: Db, campaign: CampaignRow, seqs: number[], now: Date): Promise<Set<number>> {
  if (seqs.length === 0) return new Set();
  const consent = `${campaign.channel satisfies Channel}_consent`;
  const { rows } = await db.raw<{ rows: Array<{ seq: number }> }>(
    `update campaign_messages m
        set status = 'sending', claimed_at = clock_timestamp(), window_at = ?, updated_at = now()
       from contacts c
      where c.id = m.contact_id and m.campaign_id = ? and m.seq = any(?) and m.status in ('queued', 'waiting_window')
        and c.${consent} = 'opt_in'
      returning m.seq`,
    [now, campaign.id, seqs],
  );
  return new Set(rows.map((r) => r.seq));
}

/**
 * Sends claimed messages at their due times in a reserved slot. A provider answer that
 * says the message was not taken (an HTTP error, a refused connection) releases its
 * claim and, when retryable, ends the call with an error so Temporal backs off; a
 * timeout leaves the claim for reconciliation, since the provider may have it.
 */
async function sendPaced(
  db: Db,
  sms: SmsProvider,
  campaign: CampaignRow,
  messages: Array<Candidate & { text: string }>,
  rate: number,
  staleClaimMs: number,
): Promise<Outcome[]> {
  if (messages.length === 0) return [];
  const sender = `${sms.name}:${campaign.channel}`;
  const paced = rate * PACING_HEADROOM;
  // Mini-slots of about 10 ms of the rate: each is sent as a burst from its start, so an
  // activity slower than the rate's spacing is not forever late, and a late burst is short.
  const slotSize = Math.max(1, Math.floor(paced / 100));
  const claimedMs = performance.now();
  const outcomes: Outcome[] = [];
  let slot = { startMs: 0, left: 0 };
  const release = async (from: number) => {
    const unsent = messages.slice(from).map((m) => m.seq);
    await db('campaign_messages').where({ campaign_id: campaign.id, status: 'sending' }).whereIn('seq', unsent).update({ status: 'queued', claimed_at: null, updated_at: db.fn.now() });
  };
  for (const [index, message] of messages.entries()) {
    // A claim this old could soon be reconciled by another attempt: hand it back unsent
    // rather than race that attempt (at most once beats sending late).
    if (performance.now() - claimedMs > staleClaimMs / 2 || Context.current().cancellationSignal.aborted) {
      await release(index);
      return outcomes;
    }
    // Out of slot, or later than the tolerance into it (a stalled event loop, a slow
    // database): a fresh slot, so late sends never bunch into the next second.
    if (slot.left === 0 || performance.now() - slot.startMs > LATE_TOLERANCE_MS) {
      const size = Math.min(slotSize, messages.length - index);
      const reserved = await reserveSendSlot(db, sender, size, paced);
      slot = { startMs: performance.now() + reserved.waitMs, left: size };
      if (reserved.waitMs > 0) await sleep(reserved.waitMs);
      Context.current().heartbeat();
    }
    slot.left--;
    const segments = smsSegments(message.text).segments;
    try {
      const sent = await sms.send({ to: message.phone, body: message.text, reference: messageReference(campaign.id, message.contact_id), channel: campaign.channel });
      outcomes.push({ seq: message.seq, status: 'sent', providerMessageId: sent.providerMessageId, segments });
    } catch (err) {
      if (!(err instanceof SmsSendError)) throw err;
      if (!err.retryable) {
        outcomes.push({ seq: message.seq, status: 'failed', reason: err.description, segments });
        continue;
      }
      if (err.reason !== 'timeout') await release(index);
      await recordOutcomes(db, campaign.id, sms.name, outcomes);
      throw err;
    }
  }
  return outcomes;
}

/** Writes a chunk's outcomes in one statement; only `sending`/pending rows move. */
async function recordOutcomes(db: Db, campaignId: string, provider: string, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const values = outcomes.map(() => '(?::int, ?::text, ?::text, ?::text, ?::int)').join(', ');
  const bindings = outcomes.flatMap((o) => [o.seq, o.status, o.providerMessageId ?? null, o.reason ?? null, o.segments ?? null]);
  await db.raw(
    `update campaign_messages m
        set status = case when m.status in ('queued', 'waiting_window', 'sending') then v.status else m.status end,
            provider = case when v.provider_message_id is null then m.provider else ? end,
            provider_message_id = coalesce(m.provider_message_id, v.provider_message_id),
            error_reason = coalesce(v.reason, m.error_reason),
            segments = coalesce(v.segments, m.segments),
            sent_at = case when v.status = 'sent' then coalesce(m.sent_at, clock_timestamp()) else m.sent_at end,
            updated_at = now()
       from (values ${values}) as v (seq, status, provider_message_id, reason, segments)
      where m.campaign_id = ? and m.seq = v.seq`,
    [provider, ...bindings, campaignId],
  );
}

/** How a batch stands once nothing in it can be sent now. */
async function settle(db: Db, campaignId: string, range: { from: number; to: number }, staleClaimMs: number): Promise<CampaignBatchResult> {
  const row = await db('campaign_messages')
    .where({ campaign_id: campaignId })
    .whereBetween('seq', [range.from, range.to])
    .whereIn('status', [...PENDING, 'sending'])
    .first<{ due: Date | null; claimed: Date | null } | undefined>(
      db.raw('min(not_before) as due'),
      db.raw(`min(claimed_at) filter (where status = 'sending') as claimed`),
    );
  const dues = [row?.due, row?.claimed ? new Date(row.claimed.getTime() + staleClaimMs) : null].filter((d): d is Date => d instanceof Date);
  if (dues.length === 0) return { outcome: 'done' };
  return { outcome: 'waiting', dueAt: new Date(Math.min(...dues.map((d) => d.getTime()))).toISOString() };
}

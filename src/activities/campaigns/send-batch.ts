import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { Db } from '../../db/knex';
import type { Channel } from '../../campaigns/contacts';
import { applyParkedReceipts, findCampaign, findTemplate, messageReference, type CampaignRow, type MessageStatus, type TemplateRow } from '../../campaigns/repository';
import { reserveSendSlot } from '../../campaigns/send-pacing';
import { nextSendableAt } from '../../campaigns/send-window';
import { render, smsSegments } from '../../campaigns/templates';
import { SmsSendError, type SmsProvider } from '../../providers/sms';
import { ROLLOUT_WINDOW, type CampaignBatchInput, type CampaignBatchResult } from '../../workflows/campaigns/contract';
import { reconcileStaleClaims } from './reconcile';

/**
 * Sends one batch of a campaign (docs/campaigns.md, "Sending"): `batchSize` messages, in
 * chunks of a quarter second's worth at the sender's rate, each handled set-based — a
 * few statements per chunk, none per message. For each chunk, at the moment of sending:
 *
 *   1. messages whose contact is inside quiet hours / outside the send window now wait
 *      (`waiting_window`, `not_before` = when their window opens), in one statement;
 *   2. the rest are rendered in memory; a render error is `skipped_render_error`;
 *   3. the rendered ones are claimed (`sending`) in one committed statement that also
 *      requires the contact's consent for the channel — a STOP that arrived a moment ago
 *      makes its message `skipped_no_consent` instead;
 *   4. slots are reserved in the sender's bucket (one round trip per 50 ms of the rate)
 *      and the claimed messages go out at their due times with bounded concurrency; the
 *      outcomes are written in one statement.
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
  /** Provider calls a batch has in flight at once (DEFAULT_SEND_CONCURRENCY). */
  sendConcurrency?: number;
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
 * Sends are paced at 90 % of the sender's limit, and a message more than 50 ms past its
 * due time takes a new slot: whatever the scheduling jitter up to that tolerance, no
 * one-second window (as the provider sees it) holds more than the limit.
 */
const PACING_HEADROOM = 0.9;
const LATE_TOLERANCE_MS = 50;
/** A chunk is a quarter second's worth at the rate, at most this many messages. */
const MAX_CHUNK = 500;
/**
 * Provider calls in flight per batch, at most: enough to hide a call's round trip at
 * 2,000/s. Calls held up by a stall (of the provider, the network, the database) land
 * together when it ends, so the batches' calls in flight together must fit in the pacing
 * headroom: each batch may have 5 % of the rate ÷ the rollout's window in flight (12 at
 * 2,000/s), and one at low rates, where a stall can only delay the next call.
 */
export const DEFAULT_SEND_CONCURRENCY = 32;
const IN_FLIGHT_SHARE = 0.05;
/**
 * Slots are reserved just in time, 50 ms of the rate each (one round trip per slot, not
 * per message): a slot far ahead would make the bucket a queue, and claims wait in it.
 */
const SLOT_MS = 50;

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
      let template: TemplateRow | undefined;
      for (;;) {
        const campaign = await findCampaign(db, input.campaignId);
        if (!campaign || campaign.status === 'cancelled') return { outcome: 'cancelled' };
        if (campaign.status === 'paused') return { outcome: 'paused' };
        template ??= await findTemplate(db, campaign.template_id);
        if (!template) throw new Error(`template ${campaign.template_id} not found`);
        const rate = Math.min(campaign.rate_per_second ?? settings.senderRatePerSecond, settings.senderRatePerSecond);
        const chunk = await nextChunk(db, campaign.id, range, now(), Math.max(1, Math.min(MAX_CHUNK, Math.floor(rate / 4))));
        if (chunk.length === 0) return settle(db, campaign.id, range, settings.staleClaimMs);
        await sendChunk({ db, sms, campaign, template, chunk, now: now(), rate, settings });
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

type Ready = Candidate & { text: string };

/**
 * Sorts a chunk in memory, at `now`: contacts outside their send window wait (with when
 * it opens), the others are rendered — or skipped with the render error.
 */
function prepare(chunk: Candidate[], template: TemplateRow, campaign: CampaignRow, now: Date) {
  const rules = { quietHours: campaign.quiet_hours, sendWindow: campaign.send_window };
  const windows = new Map<string, Date | undefined>();
  const outcomes: Outcome[] = [];
  const waits: Array<{ seq: number; notBefore: Date }> = [];
  const ready: Ready[] = [];
  for (const candidate of chunk) {
    if (!windows.has(candidate.timezone)) windows.set(candidate.timezone, nextSendableAt(now, candidate.timezone, rules));
    const opens = windows.get(candidate.timezone);
    if (!opens) {
      outcomes.push({ seq: candidate.seq, status: 'failed', reason: 'no_send_window: the rules never allow a send in this timezone' });
    } else if (opens > now) {
      waits.push({ seq: candidate.seq, notBefore: opens });
    } else {
      const rendered = render(template.body, candidate);
      if (rendered.ok) ready.push({ ...candidate, text: rendered.text });
      else outcomes.push({ seq: candidate.seq, status: 'skipped_render_error', reason: rendered.reason });
    }
  }
  return { outcomes, waits, ready };
}

async function sendChunk({ chunk, now, ...context }: ChunkContext & { chunk: Candidate[]; now: Date }): Promise<void> {
  const { db, sms, campaign, template } = context;
  const { outcomes, waits, ready } = prepare(chunk, template, campaign, now);
  await markWaiting(db, campaign.id, waits);
  const claimed = await claim(db, campaign, ready.map((r) => r.seq), now);
  try {
    await sendPaced(context, ready.filter((r) => claimed.has(r.seq)), outcomes);
  } finally {
    await recordOutcomes(db, campaign.id, sms.name, outcomes);
  }
}

async function markWaiting(db: Db, campaignId: string, waits: Array<{ seq: number; notBefore: Date }>): Promise<void> {
  if (waits.length === 0) return;
  await db.raw(
    `update campaign_messages m set status = 'waiting_window', not_before = v.not_before, updated_at = now()
       from jsonb_to_recordset(?::jsonb) as v (seq int, not_before timestamptz)
      where m.campaign_id = ? and m.seq = v.seq and m.status in ('queued', 'waiting_window')`,
    [JSON.stringify(waits.map((w) => ({ seq: w.seq, not_before: w.notBefore.toISOString() }))), campaignId],
  );
}

/**
 * The claim, in one statement committed before any provider call: each pending message
 * of `seqs` becomes `sending` when its contact has consent for the channel now, else
 * `skipped_no_consent` (a STOP that arrived a moment ago). A message another attempt
 * moved meanwhile is left alone. Answers the seqs claimed for sending.
 */
async function claim(db: Db, campaign: CampaignRow, seqs: number[], now: Date): Promise<Set<number>> {
  if (seqs.length === 0) return new Set();
  const consent = `${campaign.channel satisfies Channel}_consent`;
  const { rows } = await db.raw<{ rows: Array<{ seq: number; status: MessageStatus }> }>(
    `update campaign_messages m
        set status = case when c.${consent} = 'opt_in' then 'sending' else 'skipped_no_consent' end,
            claimed_at = case when c.${consent} = 'opt_in' then clock_timestamp() end,
            error_reason = case when c.${consent} = 'opt_in' then m.error_reason else ? end,
            window_at = ?, updated_at = now()
       from contacts c
      where c.id = m.contact_id and m.campaign_id = ? and m.seq = any(?) and m.status in ('queued', 'waiting_window')
      returning m.seq, m.status`,
    [`no ${campaign.channel} consent at send time`, now, campaign.id, seqs],
  );
  return new Set(rows.filter((r) => r.status === 'sending').map((r) => r.seq));
}

interface ChunkContext {
  db: Db;
  sms: SmsProvider;
  campaign: CampaignRow;
  template: TemplateRow;
  rate: number;
  settings: CampaignSendSettings;
}

/**
 * Sends claimed messages at their due times, at most `sendConcurrency` provider calls at
 * a time, in slots of SLOT_MS reserved one round trip each: message i of a slot is due at
 * its start + i ÷ the paced rate. A message more than LATE_TOLERANCE_MS past its due
 * time takes a fresh slot (the sender's rate is never caught up on).
 *
 * A provider answer that says a message was not taken (an HTTP error, a refused
 * connection) releases its claim; a timeout or an unknown error leaves it for
 * reconciliation, since the provider may have it. Either ends the chunk: nothing more is
 * dispatched, the unsent claims are released, the calls in flight finish and are
 * recorded, and the error is thrown so Temporal backs off. Outcomes go into `outcomes`.
 */
async function sendPaced({ db, sms, campaign, rate, settings }: ChunkContext, messages: Ready[], outcomes: Outcome[]): Promise<void> {
  if (messages.length === 0) return;
  const sender = `${sms.name}:${campaign.channel}`;
  const claimedMs = performance.now();
  const concurrency = Math.max(1, Math.min(settings.sendConcurrency ?? DEFAULT_SEND_CONCURRENCY, Math.floor((rate * IN_FLIGHT_SHARE) / ROLLOUT_WINDOW)));
  const inFlight = new Set<Promise<void>>();
  const unsent: number[] = [];
  let failure: { error: unknown } | undefined;
  const paced = rate * PACING_HEADROOM;
  const spacingMs = 1000 / paced;
  const slotSize = Math.max(1, Math.floor((paced * SLOT_MS) / 1000));

  const reserve = async (first: number) => {
    const size = Math.min(slotSize, messages.length - first);
    const reserved = await reserveSendSlot(db, sender, size, paced);
    Context.current().heartbeat();
    return { startMs: performance.now() + reserved.waitMs, first, end: first + size };
  };
  const sendOne = async (message: Ready) => {
    const segments = smsSegments(message.text).segments;
    try {
      const sent = await sms.send({ to: message.phone, body: message.text, reference: messageReference(campaign.id, message.contact_id), channel: campaign.channel });
      outcomes.push({ seq: message.seq, status: 'sent', providerMessageId: sent.providerMessageId, segments });
    } catch (err) {
      if (err instanceof SmsSendError && !err.retryable) {
        outcomes.push({ seq: message.seq, status: 'failed', reason: err.description, segments });
        return;
      }
      failure ??= { error: err };
      if (err instanceof SmsSendError && err.reason !== 'timeout') unsent.push(message.seq);
    }
  };
  let slot = await reserve(0);
  for (const [index, message] of messages.entries()) {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    // A claim this old could soon be reconciled by another attempt: hand it back unsent
    // rather than race that attempt (at most once beats sending late).
    const handBack = performance.now() - claimedMs > settings.staleClaimMs / 2 || Context.current().cancellationSignal.aborted;
    if (failure || handBack) {
      unsent.push(...messages.slice(index).map((m) => m.seq));
      break;
    }
    let dueMs = slot.startMs + (index - slot.first) * spacingMs;
    // Out of slot, or later than the tolerance into it (a stalled event loop, a slow
    // database, a slow provider): a fresh slot, so late sends never bunch into the next second.
    if (index >= slot.end || performance.now() - dueMs > LATE_TOLERANCE_MS) {
      slot = await reserve(index);
      dueMs = slot.startMs;
    }
    // Timers are whole milliseconds: a message due within one is sent now, which the
    // pacing headroom absorbs.
    const waitMs = dueMs - performance.now();
    if (waitMs >= 1) await sleep(waitMs);
    if (index % 256 === 0) Context.current().heartbeat();
    const call = sendOne(message).finally(() => inFlight.delete(call));
    inFlight.add(call);
  }
  await Promise.all(inFlight);
  if (unsent.length > 0) {
    await db('campaign_messages').where({ campaign_id: campaign.id, status: 'sending' }).whereIn('seq', unsent).update({ status: 'queued', claimed_at: null, updated_at: db.fn.now() });
  }
  if (failure) throw failure.error;
}

/**
 * Writes a chunk's outcomes in one statement (only `sending`/pending rows move), then
 * applies the receipts that arrived before it (a provider that answers at once).
 */
async function recordOutcomes(db: Db, campaignId: string, provider: string, outcomes: Outcome[]): Promise<void> {
  if (outcomes.length === 0) return;
  const rows = outcomes.map((o) => ({ seq: o.seq, status: o.status, provider_message_id: o.providerMessageId ?? null, reason: o.reason ?? null, segments: o.segments ?? null }));
  await db.raw(
    `update campaign_messages m
        set status = case when m.status in ('queued', 'waiting_window', 'sending') then v.status else m.status end,
            provider = case when v.provider_message_id is null then m.provider else ? end,
            provider_message_id = coalesce(m.provider_message_id, v.provider_message_id),
            error_reason = coalesce(v.reason, m.error_reason),
            segments = coalesce(v.segments, m.segments),
            sent_at = case when v.status = 'sent' then coalesce(m.sent_at, clock_timestamp()) else m.sent_at end,
            updated_at = now()
       from jsonb_to_recordset(?::jsonb) as v (seq int, status text, provider_message_id text, reason text, segments int)
      where m.campaign_id = ? and m.seq = v.seq`,
    [provider, JSON.stringify(rows), campaignId],
  );
  await applyParkedReceipts(db, provider, outcomes.flatMap((o) => (o.providerMessageId ? [o.providerMessageId] : [])));
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

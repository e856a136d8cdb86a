import type { Db } from '../db/knex';
import type { Channel } from './contacts';
import type { SegmentFilter } from './segments';
import type { QuietHours, SendWindow } from './send-window';

/** Rows of the campaigns line, as PostgreSQL returns them (docs/campaigns.md). */

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'planning', 'running', 'paused', 'completed', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const MESSAGE_STATUSES = [
  'queued',
  'waiting_window',
  'sending',
  'sent',
  'delivered',
  'read',
  'failed',
  'skipped_no_consent',
  'skipped_render_error',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/**
 * How far along its life each status is: the SQL function `campaign_message_rank`
 * (migration N01), which receipts use. A status only moves to a higher rank, so a late or
 * repeated receipt never undoes a later one (`read` after `delivered` stays).
 */
export interface CampaignRow {
  id: string;
  name: string;
  template_id: string;
  segment_id: string;
  channel: Channel;
  schedule_at: Date | null;
  rate_per_second: number | null;
  quiet_hours: QuietHours | null;
  send_window: SendWindow | null;
  status: CampaignStatus;
  total: number | null;
  launched_at: Date | null;
  planned_at: Date | null;
  completed_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface TemplateRow {
  id: string;
  name: string;
  channel: Channel;
  body: string;
  placeholders: string[];
  created_at: Date;
}

export interface SegmentRow {
  id: string;
  name: string;
  filters: SegmentFilter[];
  created_at: Date;
}

export const findCampaign = (db: Db, id: string) => db('campaigns').where({ id }).first<CampaignRow | undefined>();
export const findTemplate = (db: Db, id: string) => db('campaign_templates').where({ id }).first<TemplateRow | undefined>();
export const findSegment = (db: Db, id: string) => db('segments').where({ id }).first<SegmentRow | undefined>();

/** The reference a campaign message is sent under: one per (campaign, contact), never reused. */
export const messageReference = (campaignId: string, contactId: string) => `campaign:${campaignId}:${contactId}`;

/** Whether a provider reference is a campaign message's (messageReference). */
export const isCampaignReference = (reference: string) => reference.startsWith('campaign:');

/** Per-status counts of a campaign's messages; every status is present. */
export async function messageCounts(db: Db, campaignId: string): Promise<Record<MessageStatus, number>> {
  const rows = await db('campaign_messages').where({ campaign_id: campaignId }).select('status').count<Array<{ status: MessageStatus; count: string }>>('* as count').groupBy('status');
  const counts = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>;
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}

export interface Receipt {
  status: 'sent' | 'delivered' | 'read' | 'failed';
  errorReason?: string | null;
  /** The provider's callback as received, kept with the message. */
  raw: Record<string, unknown>;
}

/** A receipt for the campaign message a provider knows by `providerMessageId`. */
export interface MessageReceipt extends Receipt {
  providerMessageId: string;
}

/**
 * Moves campaign messages forward by their receipts, from a CTE `v (ord, provider_message_id,
 * status, error_reason, raw)`: per message the highest-ranked receipt may move the status
 * (only to a higher rank; an error reason only with `failed`), and every receipt joins
 * `receipts`. The CTE `updated` answers which messages matched and whether they moved.
 */
const FORWARD_ONLY = `
  best as (
    select provider_message_id,
           (array_agg(status order by campaign_message_rank(status) desc, ord))[1] as status,
           (array_agg(error_reason order by campaign_message_rank(status) desc, ord))[1] as error_reason,
           jsonb_agg(raw order by ord) as raws
      from v group by provider_message_id
  ),
  updated as (
    update campaign_messages m
       set receipts = m.receipts || best.raws,
           status = case when campaign_message_rank(m.status) < campaign_message_rank(best.status) then best.status else m.status end,
           error_reason = case when campaign_message_rank(m.status) < campaign_message_rank(best.status) and best.status = 'failed' then best.error_reason else m.error_reason end,
           delivered_at = case when best.status in ('delivered', 'read') then coalesce(m.delivered_at, now()) else m.delivered_at end,
           read_at = case when best.status = 'read' then coalesce(m.read_at, now()) else m.read_at end,
           updated_at = now()
      from best
     where m.provider = :provider and m.provider_message_id = best.provider_message_id
     returning m.provider_message_id, m.status = best.status as applied
  )`;

/**
 * Applies delivery receipts to the campaign messages the provider knows by their ids, in
 * one statement, forward-only (a lower-ranked status is kept in `receipts` but not
 * applied). Answers how many receipts found their message and how many moved it.
 *
 * `park`: the caller knows the receipts are for campaign messages (the sandbox, by their
 * reference), so one that finds no message — its send is not recorded yet — is parked in
 * `campaign_receipt_backlog` and applied when it is (applyParkedReceipts).
 */
export async function applyCampaignReceipts(db: Db, provider: string, receipts: MessageReceipt[], options: { park?: boolean } = {}): Promise<{ matched: number; applied: number }> {
  if (receipts.length === 0) return { matched: 0, applied: 0 };
  const receivedAt = new Date().toISOString();
  const rows = receipts.map((r, ord) => ({ ord, provider_message_id: r.providerMessageId, status: r.status, error_reason: r.errorReason ?? null, raw: { ...r.raw, receivedAt } }));
  const { rows: answer } = await db.raw<{ rows: Array<{ matched: string; applied: string }> }>(
    `with v as (select * from jsonb_to_recordset(:rows::jsonb) as v (ord int, provider_message_id text, status text, error_reason text, raw jsonb)),
     ${FORWARD_ONLY},
     parked as (
       insert into campaign_receipt_backlog (provider, provider_message_id, status, error_reason, raw)
       select :provider, v.provider_message_id, v.status, v.error_reason, v.raw from v
        where :park and not exists (select 1 from updated u where u.provider_message_id = v.provider_message_id)
     )
     select (select count(*) from v where provider_message_id in (select provider_message_id from updated)) as matched,
            (select count(*) from updated where applied) as applied`,
    { rows: JSON.stringify(rows), provider, park: options.park === true },
  );
  return { matched: Number(answer[0]?.matched ?? 0), applied: Number(answer[0]?.applied ?? 0) };
}

/** One receipt (a provider's callback): applyCampaignReceipts for it alone. */
export async function applyCampaignReceipt(db: Db, where: { provider: string; providerMessageId: string }, receipt: Receipt): Promise<{ matched: boolean; applied: boolean }> {
  const { matched, applied } = await applyCampaignReceipts(db, where.provider, [{ ...receipt, providerMessageId: where.providerMessageId }]);
  return { matched: matched > 0, applied: applied > 0 };
}

/**
 * Applies the parked receipts of messages whose provider ids were just recorded, in one
 * statement with the same forward-only rule. Called right after the outcomes that carry the ids.
 */
export async function applyParkedReceipts(db: Db, provider: string, providerMessageIds: string[]): Promise<void> {
  if (providerMessageIds.length === 0) return;
  await db.raw(
    `with v as (
       delete from campaign_receipt_backlog b where b.provider = :provider and b.provider_message_id = any(:ids)
       returning b.id as ord, b.provider_message_id, b.status, b.error_reason, b.raw
     ),
     ${FORWARD_ONLY}
     select count(*) from updated`,
    { provider, ids: providerMessageIds },
  );
}

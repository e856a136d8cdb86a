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
 * How far along its life each status is. A status only moves to a higher rank, so a
 * late or repeated receipt never undoes a later one (`read` after `delivered` stays).
 */
export const MESSAGE_RANK: Record<MessageStatus, number> = {
  queued: 0,
  waiting_window: 1,
  sending: 2,
  sent: 3,
  delivered: 4,
  read: 5,
  failed: 4,
  skipped_no_consent: 6,
  skipped_render_error: 6,
};

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

/**
 * Applies a delivery receipt to the campaign message the provider knows by its id:
 * forward-only (a lower-ranked status is recorded in `receipts` but not applied). Answers
 * whether a message matched and whether its status moved.
 */
export async function applyCampaignReceipt(db: Db, where: { provider: string; providerMessageId: string }, receipt: Receipt): Promise<{ matched: boolean; applied: boolean }> {
  const entry = JSON.stringify([{ ...receipt.raw, receivedAt: new Date().toISOString() }]);
  const ranked = Object.entries(MESSAGE_RANK)
    .filter(([, rank]) => rank < MESSAGE_RANK[receipt.status])
    .map(([status]) => status);
  const { rows } = await db.raw<{ rows: Array<{ applied: boolean }> }>(
    `update campaign_messages
        set receipts = receipts || ?::jsonb,
            status = case when status = any(?) then ? else status end,
            error_reason = case when status = any(?) and ? = 'failed' then ? else error_reason end,
            delivered_at = case when ? in ('delivered', 'read') then coalesce(delivered_at, now()) else delivered_at end,
            read_at = case when ? = 'read' then coalesce(read_at, now()) else read_at end,
            updated_at = now()
      where provider = ? and provider_message_id = ?
      returning status = ? as applied`,
    [entry, ranked, receipt.status, ranked, receipt.status, receipt.errorReason ?? null, receipt.status, receipt.status, where.provider, where.providerMessageId, receipt.status],
  );
  return { matched: rows.length > 0, applied: rows.some((r) => r.applied) };
}

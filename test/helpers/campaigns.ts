import { randomInt, randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { contactColumns, upsertContacts, type ContactInput } from '../../src/campaigns/contacts';
import type { SegmentFilter } from '../../src/campaigns/segments';
import type { QuietHours, SendWindow } from '../../src/campaigns/send-window';

/**
 * Campaign fixtures written straight to PostgreSQL (no API): contacts tagged with a
 * per-test `run` attribute, so each test's segment selects only its own contacts.
 */

/**
 * A random valid US number, never one of the sandbox's scripted endings (…0001–…0004),
 * so the sandbox delivers it.
 */
export function uniquePhone(): string {
  for (;;) {
    const local = String(randomInt(2_000_000, 9_999_999));
    if (!['0001', '0002', '0003', '0004'].includes(local.slice(-4))) return `+1415${local}`;
  }
}

export async function insertContacts(db: Db, contacts: ContactInput[]): Promise<Array<{ id: string; phone: string }>> {
  const rows = contacts.map((c) => {
    const columns = contactColumns(c, 'test', new Date());
    if (!columns.ok) throw new Error(`bad fixture contact ${c.phone}: ${columns.reason}`);
    return columns.row;
  });
  return upsertContacts(db, rows);
}

export interface CampaignFixture {
  campaignId: string;
  run: string;
}

/** A template, a segment of the run's contacts and a draft campaign over them. */
export async function campaignFixture(
  db: Db,
  options: { run: string; body?: string; placeholders?: string[]; channel?: 'sms' | 'whatsapp'; ratePerSecond?: number; quietHours?: QuietHours; sendWindow?: SendWindow; filters?: SegmentFilter[] },
): Promise<CampaignFixture> {
  const channel = options.channel ?? 'sms';
  const [template] = await db('campaign_templates')
    .insert({ name: 'test', channel, body: options.body ?? 'Hello {{ first_name }}', placeholders: options.placeholders ?? ['first_name'] })
    .returning<Array<{ id: string }>>('id');
  const [segment] = await db('segments')
    .insert({ name: 'test', filters: JSON.stringify([{ path: 'run', op: 'eq', value: options.run }, ...(options.filters ?? [])]) })
    .returning<Array<{ id: string }>>('id');
  const [campaign] = await db('campaigns')
    .insert({
      name: `test ${options.run}`,
      template_id: template?.id,
      segment_id: segment?.id,
      channel,
      rate_per_second: options.ratePerSecond ?? null,
      quiet_hours: options.quietHours ? JSON.stringify(options.quietHours) : null,
      send_window: options.sendWindow ? JSON.stringify(options.sendWindow) : null,
      status: 'running',
    })
    .returning<Array<{ id: string }>>('id');
  return { campaignId: campaign?.id as string, run: options.run };
}

export const newRun = () => randomUUID();

/** The run's contacts with sms consent, first names and the given timezone. */
export const consentingContacts = (run: string, count: number, timezone = 'UTC'): ContactInput[] =>
  Array.from({ length: count }, (_, i) => ({
    phone: uniquePhone(),
    timezone,
    attributes: { run, first_name: `C${i}` },
    consent: { sms: { status: 'opt_in' as const }, whatsapp: { status: 'opt_in' as const } },
  }));

/** Per-status counts of a campaign's messages. */
export async function statusCounts(db: Db, campaignId: string): Promise<Record<string, number>> {
  const rows = await db('campaign_messages').where({ campaign_id: campaignId }).select('status').count<Array<{ status: string; count: string }>>('* as count').groupBy('status');
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.count)]));
}

/** How many times the sandbox was asked to send each of the campaign's messages beyond the first. */
export async function duplicateSends(db: Db, campaignId: string): Promise<number> {
  const row = await db('sandbox_sms_messages')
    .where('reference', 'like', `campaign:${campaignId}:%`)
    .first<{ duplicates: string | null }>(db.raw('coalesce(sum(sends - 1), 0) as duplicates'));
  return Number(row?.duplicates ?? 0);
}

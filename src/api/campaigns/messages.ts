import { z } from 'zod';
import type { Db } from '../../db/knex';
import { MESSAGE_STATUSES, type MessageStatus } from '../../campaigns/repository';
import { problems } from '../core/errors';
import type { PageQuery } from '../core/pagination';

/** A campaign's messages, paged by their number in the audience (the cursor is opaque). */

export const MessageSchema = z
  .object({
    seq: z.number().int(),
    contactId: z.uuid(),
    phone: z.string().nullable(),
    status: z.enum(MESSAGE_STATUSES),
    provider: z.string().nullable(),
    providerMessageId: z.string().nullable(),
    errorReason: z.string().nullable(),
    segments: z.number().int().nullable(),
    notBefore: z.string().datetime().nullable(),
    sentAt: z.string().datetime().nullable(),
    deliveredAt: z.string().datetime().nullable(),
    readAt: z.string().datetime().nullable(),
    updatedAt: z.string().datetime(),
  })
  .meta({ id: 'CampaignMessage' });

const encode = (seq: number) => Buffer.from(`seq:${seq}`).toString('base64url');
function decode(cursor: string): number {
  const match = /^seq:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw problems.field('query', 'cursor', 'invalid_cursor', 'The cursor is not one this API issued.');
  return Number(match[1]);
}

interface Row {
  seq: number;
  contact_id: string;
  phone: string | null;
  status: MessageStatus;
  provider: string | null;
  provider_message_id: string | null;
  error_reason: string | null;
  segments: number | null;
  not_before: Date | null;
  sent_at: Date | null;
  delivered_at: Date | null;
  read_at: Date | null;
  updated_at: Date;
}

export async function listMessages(db: Db, campaignId: string, page: PageQuery & { status?: MessageStatus }) {
  const query = db('campaign_messages as m')
    .leftJoin('contacts as c', 'c.id', 'm.contact_id')
    .where('m.campaign_id', campaignId)
    .orderBy('m.seq')
    .limit(page.limit + 1)
    .select<Row[]>('m.*', 'c.phone');
  if (page.status) query.where('m.status', page.status);
  if (page.cursor) query.where('m.seq', '>', decode(page.cursor));
  const rows = await query;
  const pageRows = rows.slice(0, page.limit);
  const iso = (d: Date | null) => d?.toISOString() ?? null;
  return {
    data: pageRows.map((r) => ({
      seq: r.seq,
      contactId: r.contact_id,
      phone: r.phone,
      status: r.status,
      provider: r.provider,
      providerMessageId: r.provider_message_id,
      errorReason: r.error_reason,
      segments: r.segments,
      notBefore: iso(r.not_before),
      sentAt: iso(r.sent_at),
      deliveredAt: iso(r.delivered_at),
      readAt: iso(r.read_at),
      updatedAt: r.updated_at.toISOString(),
    })),
    nextCursor: rows.length > page.limit && pageRows.length > 0 ? encode((pageRows[pageRows.length - 1] as Row).seq) : null,
  };
}

import { z } from 'zod';
import type { ContactRow } from '../../campaigns/contacts';
import { findSegment, type SegmentRow } from '../../campaigns/repository';
import { PATH_PATTERN, previewSegment, SEGMENT_OPS } from '../../campaigns/segments';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { PageQuery, pageSchema, paginate } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { IdParams } from '../core/schema';
import { ContactSchema, presentContact } from '../contacts/routes';

/** Segments of the campaigns line (operators only; docs/campaigns.md, "Segments"). */

const Scalar = z.union([z.string().max(500), z.number(), z.boolean()]);
const Filter = z
  .object({
    path: z.string().regex(PATH_PATTERN).meta({ example: 'plan.tier', description: 'Dotted path into the contact attributes.' }),
    op: z.enum(SEGMENT_OPS),
    value: z.union([Scalar, z.array(Scalar).min(1).max(100)]).optional().meta({ description: 'One value (`in`: an array); none for `exists`.' }),
  })
  .strict()
  .superRefine((filter, ctx) => {
    if (filter.op === 'exists') return;
    const isArray = Array.isArray(filter.value);
    if (filter.value === undefined || isArray !== (filter.op === 'in')) ctx.addIssue({ code: 'custom', path: ['value'], message: filter.op === 'in' ? '`in` takes an array' : `\`${filter.op}\` takes one value` });
    else if ((filter.op === 'gt' || filter.op === 'lt') && typeof filter.value === 'boolean') ctx.addIssue({ code: 'custom', path: ['value'], message: `\`${filter.op}\` compares numbers or strings` });
  });

const SegmentBody = z.object({ name: z.string().min(1).max(200), filters: z.array(Filter).max(20) }).strict().meta({ id: 'SegmentInput' });
const SegmentSchema = z.object({ id: z.uuid(), name: z.string(), filters: z.array(z.unknown()), createdAt: z.string().datetime() }).meta({ id: 'Segment' });
const PreviewSchema = z.object({ count: z.number().int(), sample: z.array(ContactSchema) }).meta({ id: 'SegmentPreview' });

const presentSegment = (row: SegmentRow) => ({ id: row.id, name: row.name, filters: row.filters, createdAt: row.created_at.toISOString() });

export function segmentRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  return [
    route({
      method: 'post',
      path: '/v1/segments',
      summary: 'Creates a segment: filters over contact attributes, all of which a contact must match.',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      body: SegmentBody,
      responses: { 201: { description: 'The segment.', schema: SegmentSchema } },
      handler: async (ctx, { body }) => {
        const [row] = await db('segments').insert({ name: body.name, filters: JSON.stringify(body.filters) }).returning<SegmentRow[]>('*');
        ctx.status = 201;
        ctx.body = presentSegment(row as SegmentRow);
      },
    }),
    route({
      method: 'get',
      path: '/v1/segments',
      summary: 'Segments, newest first.',
      tags: ['campaigns'],
      access: 'operator',
      query: PageQuery,
      responses: { 200: { description: 'One page of segments.', schema: pageSchema(SegmentSchema) } },
      handler: async (ctx, { query }) => {
        const { rows, nextCursor } = await paginate<SegmentRow>(db('segments').select('*'), query, 'segments');
        ctx.body = { data: rows.map(presentSegment), nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/segments/:id',
      summary: 'One segment.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 200: { description: 'The segment.', schema: SegmentSchema }, 404: { description: 'No such segment.' } },
      handler: async (ctx, { params }) => {
        const row = await findSegment(db, params.id);
        if (!row) throw problems.notFound('No such segment.');
        ctx.body = presentSegment(row);
      },
    }),
    route({
      method: 'get',
      path: '/v1/segments/:id/preview',
      summary: 'How many contacts the segment matches now, and a sample of them.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      query: z.object({ sample: z.coerce.number().int().min(0).max(50).default(10) }),
      responses: { 200: { description: 'The count and a sample.', schema: PreviewSchema }, 404: { description: 'No such segment.' } },
      handler: async (ctx, { params, query }) => {
        const row = await findSegment(db, params.id);
        if (!row) throw problems.notFound('No such segment.');
        const { count, sample } = await previewSegment<ContactRow>(db, row.filters, query.sample);
        ctx.body = { count, sample: sample.map(presentContact) };
      },
    }),
  ];
}

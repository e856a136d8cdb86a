import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { CHANNELS, CONSENT_STATUSES, contactColumns, upsertContacts, type ContactRow } from '../../campaigns/contacts';
import { workflowIds } from '../../temporal/names';
import type { ContactImportWorkflow } from '../../workflows/campaigns/contract';
import { TASK_QUEUES } from '../../temporal/names';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { PageQuery, pageSchema, paginate } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { IdParams } from '../core/schema';
import { RULES } from '../core/unstated-rules';

/**
 * Contacts of the messaging campaigns (operators only; docs/campaigns.md): create or
 * update by phone, read, list, delete, and bulk import from CSV as a workflow.
 */

const ConsentInput = z.object({ status: z.enum(CONSENT_STATUSES), source: z.string().min(1).max(100).optional() });
const Attributes = z.record(z.string().max(64), z.unknown()).meta({ description: 'Free-form JSON attributes segments filter on and templates fill from.' });

const ContactBody = z
  .object({
    phone: z.string().min(3).max(32).meta({ example: '+14155550123' }),
    attributes: Attributes.optional(),
    timezone: z.string().min(1).max(64).optional().meta({ example: 'Europe/London', description: 'IANA timezone; UTC when absent.' }),
    consent: z.object({ sms: ConsentInput.optional(), whatsapp: ConsentInput.optional() }).strict().optional(),
  })
  .strict()
  .meta({ id: 'ContactInput' });

const ConsentSchema = z.object({ status: z.enum(CONSENT_STATUSES), source: z.string().nullable(), at: z.string().datetime().nullable() });

export const ContactSchema = z
  .object({
    id: z.uuid(),
    phone: z.string(),
    attributes: z.record(z.string(), z.unknown()),
    timezone: z.string(),
    consent: z.object({ sms: ConsentSchema, whatsapp: ConsentSchema }),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .meta({ id: 'Contact' });

export const presentContact = (row: ContactRow) => ({
  id: row.id,
  phone: row.phone,
  attributes: row.attributes,
  timezone: row.timezone,
  consent: Object.fromEntries(
    CHANNELS.map((c) => [c, { status: row[`${c}_consent`], source: row[`${c}_consent_source`], at: row[`${c}_consent_at`]?.toISOString() ?? null }]),
  ) as z.infer<typeof ContactSchema>['consent'],
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const ImportBody = z
  .object({
    csv: z.string().min(1).max(5_000_000).optional().meta({ description: 'The CSV inline (a header row, then one contact per row).' }),
    objectKey: z.string().min(1).max(500).optional().meta({ description: 'A CSV already in the object storage bucket, for large files.' }),
  })
  .strict()
  .refine((b) => (b.csv === undefined) !== (b.objectKey === undefined), { message: 'Give exactly one of csv or objectKey.', path: ['csv'] })
  .meta({ id: 'ContactImportInput' });

const ImportSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(['processing', 'completed', 'failed']),
    rowsSeen: z.number().int(),
    rowsImported: z.number().int(),
    rowsRejected: z.number().int(),
    errorReason: z.string().nullable(),
    rejects: z.array(z.object({ row: z.number().int(), reason: z.string() })).meta({ description: 'The first 100 rejected rows, by line.' }),
    createdAt: z.string().datetime(),
    completedAt: z.string().datetime().nullable(),
  })
  .meta({ id: 'ContactImport' });

interface ImportRow {
  id: string;
  status: 'processing' | 'completed' | 'failed';
  rows_seen: number;
  rows_imported: number;
  rows_rejected: number;
  error_reason: string | null;
  created_at: Date;
  completed_at: Date | null;
}

export function contactRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const findContact = async (id: string) => {
    const row = await db('contacts').where({ id }).first<ContactRow | undefined>();
    if (!row) throw problems.notFound('No such contact.');
    return row;
  };
  const importView = async (id: string) => {
    const row = await db('contact_imports').where({ id }).first<ImportRow | undefined>();
    if (!row) throw problems.notFound('No such import.');
    const rejects = await db('contact_import_rejects').where({ import_id: id }).orderBy('row_number').limit(100).select<Array<{ row_number: number; reason: string }>>('row_number', 'reason');
    return {
      id: row.id,
      status: row.status,
      rowsSeen: row.rows_seen,
      rowsImported: row.rows_imported,
      rowsRejected: row.rows_rejected,
      errorReason: row.error_reason,
      rejects: rejects.map((r) => ({ row: r.row_number, reason: r.reason })),
      createdAt: row.created_at.toISOString(),
      completedAt: row.completed_at?.toISOString() ?? null,
    };
  };

  return [
    route({
      method: 'post',
      path: '/v1/contacts',
      summary: 'Creates a contact, or updates the one with this phone (E.164 after normalisation).',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      body: ContactBody,
      rules: [RULES.phoneNumberValid, RULES.timezone],
      responses: { 200: { description: 'The contact.', schema: ContactSchema } },
      handler: async (ctx, { body }) => {
        const columns = contactColumns(body, 'api', app.deps.now());
        if (!columns.ok) throw problems.field('body', columns.field, 'custom', `${columns.field}: ${columns.reason}`);
        const [row] = await upsertContacts(db, [columns.row]);
        ctx.body = presentContact(row as ContactRow);
      },
    }),
    route({
      method: 'get',
      path: '/v1/contacts',
      summary: 'Contacts, newest first.',
      tags: ['campaigns'],
      access: 'operator',
      query: PageQuery,
      rules: [],
      responses: { 200: { description: 'One page of contacts.', schema: pageSchema(ContactSchema) } },
      handler: async (ctx, { query }) => {
        const { rows, nextCursor } = await paginate<ContactRow>(db('contacts').select('*'), query, 'contacts');
        ctx.body = { data: rows.map(presentContact), nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/contacts/:id',
      summary: 'One contact with its consent per channel.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 200: { description: 'The contact.', schema: ContactSchema }, 404: { description: 'No such contact.' } },
      handler: async (ctx, { params }) => {
        ctx.body = presentContact(await findContact(params.id));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/contacts/:id',
      summary: 'Deletes a contact (its past campaign messages stay, without the contact).',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 204: { description: 'Deleted.' }, 404: { description: 'No such contact.' } },
      handler: async (ctx, { params }) => {
        const deleted = await db('contacts').where({ id: params.id }).delete();
        if (deleted === 0) throw problems.notFound('No such contact.');
        ctx.status = 204;
      },
    }),
    route({
      method: 'post',
      path: '/v1/contacts/import',
      summary: 'Imports contacts from CSV (columns phone|phone_number|mobile, timezone, JSON attributes and consent) as a workflow; poll Location.',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      body: ImportBody,
      responses: { 202: { description: 'The import, processing.', schema: ImportSchema } },
      handler: async (ctx, { body }) => {
        const id = randomUUID();
        await db('contact_imports').insert({ id, object_key: body.objectKey ?? null, source_csv: body.csv ?? null });
        await app.deps.temporal.workflow.start<ContactImportWorkflow>('contactImport', {
          taskQueue: TASK_QUEUES.core,
          workflowId: workflowIds.contactImport(id),
          args: [{ importId: id }],
        });
        ctx.status = 202;
        ctx.set('Location', `/v1/contacts/imports/${id}`);
        ctx.body = await importView(id);
      },
    }),
    route({
      method: 'get',
      path: '/v1/contacts/imports/:id',
      summary: 'An import’s progress and its first rejected rows with their reasons.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 200: { description: 'The import.', schema: ImportSchema }, 404: { description: 'No such import.' } },
      handler: async (ctx, { params }) => {
        ctx.body = await importView(params.id);
      },
    }),
  ];
}

import { z } from 'zod';
import { CHANNELS, type ContactRow } from '../../campaigns/contacts';
import { findTemplate, type TemplateRow } from '../../campaigns/repository';
import { render, smsSegments, undeclaredPlaceholders } from '../../campaigns/templates';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { PageQuery, pageSchema, paginate } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { IdParams } from '../core/schema';
import { campaignRules } from '../campaigns/rules';

/** Message templates of the campaigns line (operators only; docs/campaigns.md). */

const PLACEHOLDER_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

const TemplateBody = z
  .object({
    name: z.string().min(1).max(200),
    channel: z.enum(CHANNELS),
    body: z.string().min(1).max(4000).meta({ example: 'Hi {{ first_name }}, your {{ plan.tier }} offer is here.' }),
    placeholders: z.array(z.string().regex(PLACEHOLDER_NAME).max(200)).max(50).default([]).meta({ description: 'Every `{{ placeholder }}` the body uses must be declared here.' }),
  })
  .strict()
  .meta({ id: 'TemplateInput' });

const SegmentCount = z.object({ encoding: z.enum(['GSM-7', 'UCS-2']), units: z.number().int(), segments: z.number().int() });

const TemplateSchema = z
  .object({ id: z.uuid(), name: z.string(), channel: z.enum(CHANNELS), body: z.string(), placeholders: z.array(z.string()), sms: SegmentCount, createdAt: z.string().datetime() })
  .meta({ id: 'Template' });

const PreviewSchema = z
  .object({
    contactId: z.uuid(),
    ok: z.boolean(),
    text: z.string().nullable(),
    error: z.string().nullable().meta({ description: 'Why the template does not render for this contact (the campaign records it as skipped_render_error).' }),
    sms: SegmentCount.nullable(),
  })
  .meta({ id: 'TemplatePreview' });

const presentTemplate = (row: TemplateRow) => ({
  id: row.id,
  name: row.name,
  channel: row.channel,
  body: row.body,
  placeholders: row.placeholders,
  // Of the body as written: placeholders filled in change the count per contact (the preview shows it).
  sms: smsSegments(row.body),
  createdAt: row.created_at.toISOString(),
});

export function templateRoutes(app: AppContext): RouteSpec[] {
  const { db } = app.deps;
  const find = async (id: string) => {
    const row = await findTemplate(db, id);
    if (!row) throw problems.notFound('No such template.');
    return row;
  };
  return [
    route({
      method: 'post',
      path: '/v1/templates',
      summary: 'Creates a message template; every placeholder the body uses must be declared.',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      body: TemplateBody,
      rules: [campaignRules.declaredPlaceholders],
      responses: { 201: { description: 'The template.', schema: TemplateSchema } },
      handler: async (ctx, { body }) => {
        const undeclared = undeclaredPlaceholders(body.body, body.placeholders);
        if (undeclared.length > 0) throw problems.field('body', 'body', 'undeclared_placeholder', `body uses undeclared placeholders: ${undeclared.join(', ')}`);
        const [row] = await db('campaign_templates').insert(body).returning<TemplateRow[]>('*');
        ctx.status = 201;
        ctx.body = presentTemplate(row as TemplateRow);
      },
    }),
    route({
      method: 'get',
      path: '/v1/templates',
      summary: 'Templates, newest first.',
      tags: ['campaigns'],
      access: 'operator',
      query: PageQuery,
      responses: { 200: { description: 'One page of templates.', schema: pageSchema(TemplateSchema) } },
      handler: async (ctx, { query }) => {
        const { rows, nextCursor } = await paginate<TemplateRow>(db('campaign_templates').select('*'), query, 'campaign_templates');
        ctx.body = { data: rows.map(presentTemplate), nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/templates/:id',
      summary: 'One template.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 200: { description: 'The template.', schema: TemplateSchema }, 404: { description: 'No such template.' } },
      handler: async (ctx, { params }) => {
        ctx.body = presentTemplate(await find(params.id));
      },
    }),
    route({
      method: 'get',
      path: '/v1/templates/:id/preview',
      summary: 'The template rendered for one contact, with its SMS segment count, or why it does not render.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      query: z.object({ contactId: z.uuid() }),
      responses: { 200: { description: 'The preview.', schema: PreviewSchema }, 404: { description: 'No such template or contact.' } },
      handler: async (ctx, { params, query }) => {
        const template = await find(params.id);
        const contact = await db('contacts').where({ id: query.contactId }).first<ContactRow | undefined>();
        if (!contact) throw problems.notFound('No such contact.');
        const rendered = render(template.body, contact);
        ctx.body = rendered.ok
          ? { contactId: contact.id, ok: true, text: rendered.text, error: null, sms: smsSegments(rendered.text) }
          : { contactId: contact.id, ok: false, text: null, error: rendered.reason, sms: null };
      },
    }),
  ];
}

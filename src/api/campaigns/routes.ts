import { z } from 'zod';
import { CHANNELS } from '../../campaigns/contacts';
import { CAMPAIGN_STATUSES, findCampaign, findSegment, findTemplate, MESSAGE_STATUSES, messageCounts, type CampaignRow } from '../../campaigns/repository';
import { TASK_QUEUES, workflowIds } from '../../temporal/names';
import {
  cancelCampaignUpdate,
  pauseCampaignUpdate,
  resumeCampaignUpdate,
  type CampaignRolloutWorkflow,
} from '../../workflows/campaigns/contract';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { PageQuery, pageSchema, paginate } from '../core/pagination';
import { route, type RouteSpec } from '../core/route';
import { IdParams } from '../core/schema';
import { campaignRules } from './rules';
import { listMessages, MessageSchema } from './messages';

/**
 * Campaigns (operators only; docs/campaigns.md): a draft is created, then launched (now
 * or at scheduleAt) as the rollout workflow `campaign:<id>`; pause, resume and cancel are
 * updates to it. GET answers the per-status counts and progress from PostgreSQL.
 */

const HHMM = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, { message: 'a local time HH:mm' });

const CampaignBody = z
  .object({
    name: z.string().min(1).max(200),
    templateId: z.uuid(),
    segmentId: z.uuid(),
    channel: z.enum(CHANNELS),
    scheduleAt: z.iso.datetime({ offset: true }).optional(),
    ratePerSecond: z.number().int().min(1).max(10_000).optional().meta({ description: 'At most the sender’s limit (CAMPAIGN_SENDER_RATE_PER_SECOND), which caps it.' }),
    quietHours: z.object({ start: HHMM, end: HHMM }).strict().optional().meta({ description: 'No sends between start and end in each contact’s timezone (wraps midnight when end ≤ start).' }),
    sendWindow: z
      .object({ weekdays: z.array(z.number().int().min(1).max(7)).min(1).max(7), start: HHMM, end: HHMM })
      .strict()
      .optional()
      .meta({ description: 'Sends only on these weekdays (1 = Monday) between start and end, in each contact’s timezone.' }),
  })
  .strict()
  .meta({ id: 'CampaignInput' });

const CampaignSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    templateId: z.uuid(),
    segmentId: z.uuid(),
    channel: z.enum(CHANNELS),
    status: z.enum(CAMPAIGN_STATUSES),
    scheduleAt: z.string().datetime().nullable(),
    ratePerSecond: z.number().int().nullable(),
    quietHours: z.object({ start: z.string(), end: z.string() }).nullable(),
    sendWindow: z.object({ weekdays: z.array(z.number().int()), start: z.string(), end: z.string() }).nullable(),
    total: z.number().int().nullable().meta({ description: 'Messages planned (the segment’s size at launch); null before planning.' }),
    counts: z.record(z.enum(MESSAGE_STATUSES), z.number().int()).meta({ description: 'Messages per status.' }),
    progress: z.number().min(0).max(1).meta({ description: 'Share of planned messages that reached an end state.' }),
    launchedAt: z.string().datetime().nullable(),
    completedAt: z.string().datetime().nullable(),
    createdAt: z.string().datetime(),
  })
  .meta({ id: 'Campaign' });

const FINAL = ['sent', 'delivered', 'read', 'failed', 'skipped_no_consent', 'skipped_render_error'] as const;

function present(row: CampaignRow, counts: Record<(typeof MESSAGE_STATUSES)[number], number>) {
  const done = FINAL.reduce((sum, status) => sum + counts[status], 0);
  return {
    id: row.id,
    name: row.name,
    templateId: row.template_id,
    segmentId: row.segment_id,
    channel: row.channel,
    status: row.status,
    scheduleAt: row.schedule_at?.toISOString() ?? null,
    ratePerSecond: row.rate_per_second,
    quietHours: row.quiet_hours,
    sendWindow: row.send_window,
    total: row.total,
    counts,
    progress: row.total ? Math.min(1, done / row.total) : row.status === 'completed' ? 1 : 0,
    launchedAt: row.launched_at?.toISOString() ?? null,
    completedAt: row.completed_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

const invalidState = problems.campaignInvalidState;
const unprocessable = problems.campaignInvalid;

export function campaignRoutes(app: AppContext): RouteSpec[] {
  const { db, temporal } = app.deps;
  const find = async (id: string) => {
    const row = await findCampaign(db, id);
    if (!row) throw problems.notFound('No such campaign.');
    return row;
  };
  const view = async (id: string) => present(await find(id), await messageCounts(db, id));
  const rollout = (id: string) => temporal.workflow.getHandle<CampaignRolloutWorkflow>(workflowIds.campaignRollout(id));

  const control = (verb: 'pause' | 'resume' | 'cancel', allowed: CampaignRow['status'][], summary: string) =>
    route({
      method: 'post',
      path: `/v1/campaigns/:id/${verb}`,
      summary,
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      rules: [campaignRules.campaignState],
      responses: { 200: { description: 'The campaign after it.', schema: CampaignSchema }, 404: { description: 'No such campaign.' }, 409: { description: 'Not in a state that allows it.' } },
      handler: async (ctx, { params }) => {
        const campaign = await find(params.id);
        if (!allowed.includes(campaign.status)) throw invalidState(`A ${campaign.status} campaign cannot ${verb}.`);
        if (campaign.status === 'draft') {
          // Never launched: there is no rollout to tell; only cancel applies.
          await db('campaigns').where({ id: campaign.id, status: 'draft' }).update({ status: 'cancelled', updated_at: db.fn.now() });
        } else {
          const update = verb === 'pause' ? pauseCampaignUpdate : verb === 'resume' ? resumeCampaignUpdate : cancelCampaignUpdate;
          await rollout(campaign.id).executeUpdate(update);
        }
        ctx.body = await view(campaign.id);
      },
    });

  return [
    route({
      method: 'post',
      path: '/v1/campaigns',
      summary: 'Creates a draft campaign: a template sent to a segment on a channel, with its rate, quiet hours and send window.',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      body: CampaignBody,
      rules: [campaignRules.campaignReferences, campaignRules.templateChannel],
      responses: { 201: { description: 'The draft.', schema: CampaignSchema }, 422: { description: 'The template or segment does not exist, or the template is for another channel.' } },
      handler: async (ctx, { body }) => {
        const template = await findTemplate(db, body.templateId);
        if (!template) throw unprocessable('templateId', 'template_not_found', 'No such template.');
        if (!(await findSegment(db, body.segmentId))) throw unprocessable('segmentId', 'segment_not_found', 'No such segment.');
        if (template.channel !== body.channel) throw unprocessable('channel', 'channel_mismatch', `The template is for ${template.channel}, not ${body.channel}.`);
        const [row] = await db('campaigns')
          .insert({
            name: body.name,
            template_id: body.templateId,
            segment_id: body.segmentId,
            channel: body.channel,
            schedule_at: body.scheduleAt ?? null,
            rate_per_second: body.ratePerSecond ?? null,
            quiet_hours: body.quietHours ? JSON.stringify(body.quietHours) : null,
            send_window: body.sendWindow ? JSON.stringify(body.sendWindow) : null,
          })
          .returning<CampaignRow[]>('id');
        ctx.status = 201;
        ctx.set('Location', `/v1/campaigns/${row?.id}`);
        ctx.body = await view(row?.id as string);
      },
    }),
    route({
      method: 'get',
      path: '/v1/campaigns',
      summary: 'Campaigns, newest first, with their counts.',
      tags: ['campaigns'],
      access: 'operator',
      query: PageQuery,
      responses: { 200: { description: 'One page of campaigns.', schema: pageSchema(CampaignSchema) } },
      handler: async (ctx, { query }) => {
        const { rows, nextCursor } = await paginate<CampaignRow>(db('campaigns').select('*'), query, 'campaigns');
        ctx.body = { data: await Promise.all(rows.map(async (row) => present(row, await messageCounts(db, row.id)))), nextCursor };
      },
    }),
    route({
      method: 'get',
      path: '/v1/campaigns/:id',
      summary: 'One campaign with its per-status counts and progress.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      responses: { 200: { description: 'The campaign.', schema: CampaignSchema }, 404: { description: 'No such campaign.' } },
      handler: async (ctx, { params }) => {
        ctx.body = await view(params.id);
      },
    }),
    route({
      method: 'get',
      path: '/v1/campaigns/:id/messages',
      summary: 'The campaign’s messages in audience order, with their status and times.',
      tags: ['campaigns'],
      access: 'operator',
      params: IdParams,
      query: PageQuery.extend({ status: z.enum(MESSAGE_STATUSES).optional() }),
      rules: [],
      responses: { 200: { description: 'One page of messages.', schema: pageSchema(MessageSchema) }, 404: { description: 'No such campaign.' } },
      handler: async (ctx, { params, query }) => {
        await find(params.id);
        ctx.body = await listMessages(db, params.id, query);
      },
    }),
    route({
      method: 'post',
      path: '/v1/campaigns/:id/launch',
      summary: 'Launches a draft: now, or at its scheduleAt. The rollout plans the audience, then sends.',
      tags: ['campaigns'],
      access: 'operator',
      idempotency: 'optional',
      params: IdParams,
      rules: [campaignRules.campaignState],
      responses: { 202: { description: 'Launched (scheduled or planning).', schema: CampaignSchema }, 404: { description: 'No such campaign.' }, 409: { description: 'Not a draft (running, completed or cancelled).' } },
      handler: async (ctx, { params }) => {
        const campaign = await find(params.id);
        const scheduled = campaign.schedule_at && campaign.schedule_at.getTime() > app.deps.now().getTime();
        const moved = await db('campaigns')
          .where({ id: campaign.id, status: 'draft' })
          .update({ status: scheduled ? 'scheduled' : 'planning', launched_at: db.fn.now(), updated_at: db.fn.now() });
        if (moved === 0) throw invalidState(`A ${campaign.status} campaign cannot be launched.`);
        await temporal.workflow.start<CampaignRolloutWorkflow>('campaignRollout', {
          taskQueue: TASK_QUEUES.core,
          workflowId: workflowIds.campaignRollout(campaign.id),
          args: [{ campaignId: campaign.id, ...(campaign.schedule_at ? { scheduleAt: campaign.schedule_at.toISOString() } : {}) }],
        });
        ctx.status = 202;
        ctx.set('Location', `/v1/campaigns/${campaign.id}`);
        ctx.body = await view(campaign.id);
      },
    }),
    control('pause', ['scheduled', 'planning', 'running', 'paused'], 'Pauses sending: running batches stop after their current chunk.'),
    control('resume', ['scheduled', 'planning', 'running', 'paused'], 'Resumes a paused campaign.'),
    control('cancel', ['draft', 'scheduled', 'planning', 'running', 'paused'], 'Cancels the campaign: no further message is sent.'),
  ];
}

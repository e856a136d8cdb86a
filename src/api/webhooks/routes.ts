import { z } from 'zod';
import { PLIVO_STATUS_WEBHOOK_PATH } from '../../config';
import { createOutbox, type ReceiptStatus } from '../../providers/outbox';
import type { AppContext } from '../core/context';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { verifyPlivoSignature } from './plivo-signature';
import { applyCampaignReceipt } from '../../campaigns/repository';
import { twilioStatusRoute } from './twilio-status';

/** Provider callbacks. Public routes: each proves where it came from by its signature. */

const PlivoMessageStatus = z
  .looseObject({
    MessageUUID: z.string().min(1).max(100),
    Status: z.string().min(1).max(40),
    ErrorCode: z.string().max(20).optional(),
    ParentMessageUUID: z.string().max(100).optional(),
    From: z.string().optional(),
    To: z.string().optional(),
  })
  .meta({ id: 'PlivoMessageStatus', description: 'Form fields Plivo posts to a message status callback; others are accepted too.' });

const WebhookOutcome = z
  .object({
    outcome: z.enum(['applied', 'unchanged', 'unknown_message', 'ignored_status']),
  })
  .meta({ id: 'WebhookOutcome' });

/** Plivo's message states as outbox statuses; `queued` and `sent` both mean Plivo has it. */
const PLIVO_STATUS: Record<string, ReceiptStatus> = {
  queued: 'sent',
  sent: 'sent',
  delivered: 'delivered',
  undelivered: 'undelivered',
  failed: 'failed',
  rejected: 'failed',
};

export function webhookRoutes(app: AppContext): RouteSpec[] {
  const outbox = createOutbox(app.deps.db);
  return [
    route({
      method: 'post',
      path: PLIVO_STATUS_WEBHOOK_PATH,
      summary: 'Plivo message status callback (delivery receipt), signed with Plivo V3 signatures.',
      tags: ['webhooks'],
      access: 'public',
      body: PlivoMessageStatus,
      bodyType: 'form',
      responses: {
        200: { description: 'Received; `outcome` says what it changed. Unknown messages are ignored so Plivo stops retrying.', schema: WebhookOutcome },
        401: { description: 'No X-Plivo-Signature-V3 / X-Plivo-Signature-V3-Nonce headers.', schema: ProblemSchema },
        403: { description: 'The signature does not match the request (or no PLIVO_AUTH_TOKEN is configured).', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        verifyPlivoSignature(app, ctx);
        const status = PLIVO_STATUS[body.Status.toLowerCase()];
        const log = ctx.state.log.child({ messageUuid: body.MessageUUID, plivoStatus: body.Status });
        if (!status) {
          log.info('Plivo status callback with a status finflow does not track; ignored');
          ctx.body = { outcome: 'ignored_status' };
          return;
        }
        const errorReason = body.ErrorCode ? `${status}: Plivo error code ${body.ErrorCode}` : status;
        const receipt = { status, errorReason };
        // A campaign message first (docs/campaigns.md), then the notification outbox.
        const campaign = await applyCampaignReceipt(app.deps.db, { provider: 'plivo', providerMessageId: body.MessageUUID }, {
          status: status === 'undelivered' ? 'failed' : status,
          errorReason: status === 'sent' || status === 'delivered' ? null : errorReason,
          raw: { ...body },
        });
        if (campaign.matched) {
          ctx.body = { outcome: campaign.applied ? 'applied' : 'unchanged' };
          return;
        }
        let result = await outbox.applyReceipt({ provider: 'plivo', providerMessageId: body.MessageUUID }, receipt);
        // A part of a long message carries its own uuid; the outbox knows the first part's.
        if (!result.matched && body.ParentMessageUUID && body.ParentMessageUUID !== body.MessageUUID) {
          result = await outbox.applyReceipt({ provider: 'plivo', providerMessageId: body.ParentMessageUUID }, receipt);
        }
        if (!result.matched) {
          log.warn('Plivo status callback for a message the outbox does not know; ignored');
          ctx.body = { outcome: 'unknown_message' };
          return;
        }
        log.info({ notificationId: result.row?.id, status: result.row?.status }, 'Plivo status callback applied');
        ctx.body = { outcome: result.applied ? 'applied' : 'unchanged' };
      },
    }),
    // campaigns
    twilioStatusRoute(app),
  ];
}

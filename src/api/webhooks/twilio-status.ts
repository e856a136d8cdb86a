import type { ParameterizedContext } from 'koa';
import { z } from 'zod';
import { TWILIO_STATUS_WEBHOOK_PATH } from '../../config';
import { applyCampaignReceipt, type Receipt } from '../../campaigns/repository';
import { createOutbox, type ReceiptStatus } from '../../providers/outbox';
import { isValidTwilioSignature, TWILIO_SIGNATURE_HEADER } from '../../providers/sms/twilio';
import type { AppContext, AppState } from '../core/context';
import { problems } from '../core/errors';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { CALLBACK_POLICY, publicRequestUrl, refuseUnsigned, type SignaturePolicy } from './plivo-signature';

/**
 * Twilio's message status callback (SMS and WhatsApp): signed with X-Twilio-Signature
 * (HMAC-SHA1 over the URL Twilio called and the posted params), checked with the SDK's
 * validator before anything is read or stored. Updates the campaign message or outbox
 * row Twilio knows by its MessageSid, forward-only, and keeps the raw receipt.
 */

const TwilioMessageStatus = z
  .looseObject({
    MessageSid: z.string().min(1).max(64),
    MessageStatus: z.string().min(1).max(40),
    ErrorCode: z.string().max(20).optional(),
    To: z.string().optional(),
    From: z.string().optional(),
  })
  .meta({ id: 'TwilioMessageStatus', description: 'Form fields Twilio posts to a status callback; others are accepted too.' });

const WebhookOutcome = z.object({ outcome: z.enum(['applied', 'unchanged', 'unknown_message', 'ignored_status']) }).meta({ id: 'TwilioWebhookOutcome' });

/** Twilio's message states as campaign statuses; `queued`, `accepted`, `sending` say nothing new. */
const CAMPAIGN_STATUS: Record<string, Receipt['status']> = { sent: 'sent', delivered: 'delivered', read: 'read', undelivered: 'failed', failed: 'failed' };
const OUTBOX_STATUS: Record<string, ReceiptStatus> = { sent: 'sent', delivered: 'delivered', read: 'delivered', undelivered: 'undelivered', failed: 'failed' };

/** The posted form fields exactly as sent (Twilio signs single values). */
function formParams(rawBody: string | undefined): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(rawBody ?? ''));
}

/** Throws for an unsigned request (401 by default), 403 for a wrongly signed one (or when no token is set). */
export function verifyTwilioSignature(app: AppContext, ctx: ParameterizedContext<AppState>, policy: SignaturePolicy = CALLBACK_POLICY): void {
  const signature = ctx.get(TWILIO_SIGNATURE_HEADER);
  if (!signature) throw refuseUnsigned(policy, 'The request carries no X-Twilio-Signature.');
  const authToken = app.config.sms.twilio.authToken;
  if (!authToken) throw problems.forbidden('Twilio callbacks are not accepted: no TWILIO_AUTH_TOKEN is configured.');
  const valid = isValidTwilioSignature({ authToken, signature, url: publicRequestUrl(app, ctx), params: formParams((ctx.request as { rawBody?: string }).rawBody) });
  if (!valid) throw problems.forbidden('The Twilio signature does not match this request.');
}

export function twilioStatusRoute(app: AppContext): RouteSpec {
  const outbox = createOutbox(app.deps.db);
  return route({
    method: 'post',
    path: TWILIO_STATUS_WEBHOOK_PATH,
    summary: 'Twilio message status callback (SMS and WhatsApp delivery and read receipts), signed with X-Twilio-Signature.',
    tags: ['webhooks'],
    access: 'public',
    body: TwilioMessageStatus,
    bodyType: 'form',
    responses: {
      200: { description: 'Received; `outcome` says what it changed. Unknown messages are ignored so Twilio stops retrying.', schema: WebhookOutcome },
      401: { description: 'No X-Twilio-Signature header.', schema: ProblemSchema },
      403: { description: 'The signature does not match the request (or no TWILIO_AUTH_TOKEN is configured).', schema: ProblemSchema },
    },
    handler: async (ctx, { body }) => {
      verifyTwilioSignature(app, ctx);
      const twilioStatus = body.MessageStatus.toLowerCase();
      const status = CAMPAIGN_STATUS[twilioStatus];
      if (!status) {
        ctx.body = { outcome: 'ignored_status' };
        return;
      }
      const errorReason = body.ErrorCode ? `${twilioStatus}: Twilio error code ${body.ErrorCode}` : twilioStatus === 'failed' || twilioStatus === 'undelivered' ? twilioStatus : null;
      const where = { provider: 'twilio', providerMessageId: body.MessageSid };
      const campaign = await applyCampaignReceipt(app.deps.db, where, { status, errorReason, raw: { ...body } });
      const result = campaign.matched
        ? campaign
        : await outbox.applyReceipt(where, { status: OUTBOX_STATUS[twilioStatus] as ReceiptStatus, errorReason }).then((r) => ({ matched: r.matched, applied: r.applied }));
      ctx.state.log.info({ messageSid: body.MessageSid, twilioStatus, matched: result.matched }, 'Twilio status callback');
      ctx.body = { outcome: !result.matched ? 'unknown_message' : result.applied ? 'applied' : 'unchanged' };
    },
  });
}

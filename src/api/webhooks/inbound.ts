import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import type { ParameterizedContext } from 'koa';
import { z } from 'zod';
import { isValidPlivoSignature, PLIVO_NONCE_HEADER, PLIVO_SIGNATURE_HEADER } from '../../providers/sms/plivo';
import { isValidTwilioSignature, TWILIO_SIGNATURE_HEADER } from '../../providers/sms/twilio';
import { withDeadline } from '../../temporal/client';
import { TASK_QUEUES, workflowIds } from '../../temporal/names';
import type { SmsBankingWorkflow } from '../../workflows/banking/contract';
import type { AppContext, AppState } from '../core/context';
import { problems } from '../core/errors';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { publicRequestUrl, rawFormParams } from './plivo-signature';

/**
 * Inbound SMS banking (docs/statements.md, "SMS banking"): Plivo and Twilio post each
 * text a customer sends. The provider's signature is checked with its SDK's own helper
 * before anything is stored (a bad or missing one is 403). Each message is stored once,
 * keyed by (provider, provider message id), and handled by the `smsBanking` workflow
 * under an id derived from the stored row, so a retried webhook changes nothing.
 */

export const PLIVO_INBOUND_PATH = '/webhooks/plivo/inbound';
export const TWILIO_INBOUND_PATH = '/webhooks/twilio/inbound';

const E164ish = z.string().min(3).max(32);

const PlivoInbound = z
  .looseObject({ MessageUUID: z.string().min(1).max(100), From: E164ish, To: E164ish.optional(), Text: z.string().max(2000) })
  .meta({ id: 'PlivoInboundMessage', description: 'Form fields Plivo posts for an incoming message; others are accepted too.' });

const TwilioInbound = z
  .looseObject({ MessageSid: z.string().min(1).max(100), From: E164ish, To: E164ish.optional(), Body: z.string().max(2000) })
  .meta({ id: 'TwilioInboundMessage', description: 'Form fields Twilio posts for an incoming message; others are accepted too.' });

const InboundOutcome = z.object({ outcome: z.enum(['accepted', 'duplicate']) }).meta({ id: 'InboundSmsOutcome' });

const rawBodyOf = (ctx: ParameterizedContext<AppState>) => (ctx.request as { rawBody?: string }).rawBody;

function verifyPlivo(app: AppContext, ctx: ParameterizedContext<AppState>): void {
  const signature = ctx.get(PLIVO_SIGNATURE_HEADER);
  const nonce = ctx.get(PLIVO_NONCE_HEADER);
  const authToken = app.config.sms.plivo.authToken;
  const valid =
    Boolean(signature && nonce && authToken) &&
    isValidPlivoSignature({ method: 'POST', url: publicRequestUrl(app, ctx), nonce, signature, authToken: authToken as string, params: rawFormParams(rawBodyOf(ctx)) });
  if (!valid) throw problems.forbidden('The request carries no valid Plivo V3 signature (or no PLIVO_AUTH_TOKEN is configured).');
}

function verifyTwilio(app: AppContext, ctx: ParameterizedContext<AppState>): void {
  const signature = ctx.get(TWILIO_SIGNATURE_HEADER);
  const authToken = app.config.sms.twilio.authToken;
  // Twilio signs each field once; a repeated name keeps its last value, as Twilio's own validator reads it.
  const params = Object.fromEntries(Object.entries(rawFormParams(rawBodyOf(ctx))).map(([name, value]) => [name, Array.isArray(value) ? (value.at(-1) ?? '') : value]));
  const valid = Boolean(signature && authToken) && isValidTwilioSignature({ authToken: authToken as string, signature, url: publicRequestUrl(app, ctx), params });
  if (!valid) throw problems.forbidden('The request carries no valid X-Twilio-Signature (or no TWILIO_AUTH_TOKEN is configured).');
}

interface InboundMessage {
  provider: 'plivo' | 'twilio';
  providerMessageId: string;
  from: string;
  to: string | undefined;
  body: string;
}

/** Stores the message unless it is known, and makes sure its handling has started (a no-op for a repeat). */
async function receive(app: AppContext, message: InboundMessage): Promise<{ outcome: 'accepted' | 'duplicate' }> {
  const { db, temporal } = app.deps;
  const [inserted] = await db('sms_inbound')
    .insert({ id: randomUUID(), provider: message.provider, provider_message_id: message.providerMessageId, from_number: message.from, to_number: message.to ?? null, body: message.body })
    .onConflict(['provider', 'provider_message_id'])
    .ignore()
    .returning('id');
  const inboundId = (inserted?.id ?? (await db('sms_inbound').where({ provider: message.provider, provider_message_id: message.providerMessageId }).first('id'))?.id) as string;
  try {
    // Also for a repeat: should the first delivery have stored the row and died before this, the repeat starts it.
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
      temporal.workflow.start<SmsBankingWorkflow>('smsBanking', {
        taskQueue: TASK_QUEUES.core,
        workflowId: workflowIds.smsBanking(inboundId),
        args: [{ inboundId }],
        workflowIdConflictPolicy: 'USE_EXISTING',
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return { outcome: inserted ? 'accepted' : 'duplicate' };
}

const responses = (provider: string) => ({
  200: { description: '`accepted`: stored and being answered; `duplicate`: this message was received before (nothing new happens).', schema: InboundOutcome },
  403: { description: `No valid ${provider} signature (or no ${provider} auth token configured); nothing is stored.`, schema: ProblemSchema },
});

export function inboundSmsRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: PLIVO_INBOUND_PATH,
      summary: 'Plivo incoming message (SMS banking), signed with Plivo V3 signatures.',
      tags: ['webhooks'],
      access: 'public',
      body: PlivoInbound,
      bodyType: 'form',
      responses: responses('Plivo'),
      handler: async (ctx, { body }) => {
        verifyPlivo(app, ctx);
        ctx.body = await receive(app, { provider: 'plivo', providerMessageId: body.MessageUUID, from: body.From, to: body.To, body: body.Text });
      },
    }),
    route({
      method: 'post',
      path: TWILIO_INBOUND_PATH,
      summary: 'Twilio incoming message (SMS banking), signed with X-Twilio-Signature.',
      tags: ['webhooks'],
      access: 'public',
      body: TwilioInbound,
      bodyType: 'form',
      responses: responses('Twilio'),
      handler: async (ctx, { body }) => {
        verifyTwilio(app, ctx);
        ctx.body = await receive(app, { provider: 'twilio', providerMessageId: body.MessageSid, from: body.From, to: body.To, body: body.Body });
      },
    }),
  ];
}

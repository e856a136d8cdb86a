import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { z } from 'zod';
import { withDeadline } from '../../temporal/client';
import { TASK_QUEUES, workflowIds } from '../../temporal/names';
import type { SmsBankingWorkflow } from '../../workflows/banking/contract';
import type { AppContext } from '../core/context';
import { ProblemSchema } from '../core/openapi';
import { route, type RouteSpec } from '../core/route';
import { verifyPlivoSignature, type SignaturePolicy } from './plivo-signature';
import { verifyTwilioSignature } from './twilio-status';

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

/** An inbound message with no signature is refused like a wrongly signed one: 403, nothing stored. */
const INBOUND_POLICY: SignaturePolicy = { unsigned: 'forbidden' };


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
        verifyPlivoSignature(app, ctx, INBOUND_POLICY);
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
        verifyTwilioSignature(app, ctx, INBOUND_POLICY);
        ctx.body = await receive(app, { provider: 'twilio', providerMessageId: body.MessageSid, from: body.From, to: body.To, body: body.Body });
      },
    }),
  ];
}

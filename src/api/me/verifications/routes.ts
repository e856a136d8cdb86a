import { RULES } from '../../core/unstated-rules';
import type { AppContext } from '../../core/context';
import { clientAddress } from '../../core/client-address';
import { currentUserId } from '../../core/middleware/auth';
import { ProblemSchema } from '../../core/openapi';
import { rateLimit } from '../../core/rate-limit';
import { route, type RouteSpec } from '../../core/route';
import { findUser } from '../../auth/service';
import { UserSchema } from '../../auth/schema';
import { problems } from '../../core/errors';
import { ConfirmVerificationBody, StartVerificationBody, VerificationSchema } from './schema';
import { confirmVerification, startVerification } from './service';

/** Proving control of the signed-in user's email and phone (only verified contacts receive transfers). */
export function verificationRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/me/verifications',
      summary: 'Send a one-time code to your email (by email) or phone (by SMS); valid 10 minutes and 5 attempts. A new request replaces the code.',
      tags: ['auth'],
      access: 'user',
      body: StartVerificationBody,
      responses: {
        202: { description: 'The code is on its way to the masked destination.', schema: VerificationSchema },
        409: { description: '`conflict`: already verified.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many codes for this address or contact; see Retry-After.', schema: ProblemSchema },
        503: { description: '`verification_not_delivered`: the provider did not take the message.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const userId = currentUserId(ctx.state);
        await rateLimit(app, 'verification', clientAddress(ctx), `${userId}:${body.channel}`);
        ctx.status = 202;
        ctx.body = await startVerification(app, userId, body.channel);
      },
    }),
    route({
      method: 'post',
      path: '/v1/me/verifications/confirm',
      summary: 'Confirm a code: your email or phone becomes verified. A phone can be verified by one account only.',
      tags: ['auth'],
      access: 'user',
      body: ConfirmVerificationBody,
      rules: [RULES.verificationCode],
      responses: {
        200: { description: 'Verified; the signed-in user.', schema: UserSchema },
        409: { description: '`conflict`: the phone is verified by another account.', schema: ProblemSchema },
        422: { description: '`verification_failed` (code): wrong, expired, spent or never sent.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many attempts from this address; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const userId = currentUserId(ctx.state);
        await rateLimit(app, 'verification', clientAddress(ctx), `${userId}:${body.channel}:confirm`);
        await confirmVerification(app, userId, body.channel, body.code);
        const user = await findUser(app, userId);
        if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
        ctx.body = user;
      },
    }),
  ];
}

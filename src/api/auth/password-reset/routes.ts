import { TokenPairSchema } from '../schema';
import { clientAddress } from '../../core/client-address';
import type { AppContext } from '../../core/context';
import { ProblemSchema } from '../../core/openapi';
import { rateLimit } from '../../core/rate-limit';
import { route, type RouteSpec } from '../../core/route';
import { RULES } from '../../core/unstated-rules';
import { CODE_TTL_MS } from '../../me/verifications/service';
import { ConfirmPasswordResetBody, PasswordResetBody, PasswordResetSchema } from './schema';
import { confirmPasswordReset, requestPasswordReset } from './service';

/** Forgotten passwords: a code to the verified email, then a new password with it. */
export function passwordResetRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/auth/password-reset',
      summary: 'Send a password reset code to the account\'s verified email. The answer is the same whether or not the address has an account.',
      tags: ['auth'],
      access: 'public',
      body: PasswordResetBody,
      responses: {
        202: { description: 'If the address belongs to an account with a verified email, a code is on its way.', schema: PasswordResetSchema },
        429: { description: '`rate_limited`: too many requests from this address or for this email; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        await rateLimit(app, 'verification', clientAddress(ctx), `password-reset:${body.email}`);
        await requestPasswordReset(app, body.email);
        ctx.status = 202;
        ctx.body = { status: 'sent', expiresInSeconds: CODE_TTL_MS / 1000 };
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/password-reset/confirm',
      summary: 'Set a new password with the code: every session ends and you get a new token pair.',
      tags: ['auth'],
      access: 'public',
      rules: [RULES.verificationCode, RULES.newPasswordPolicy],
      body: ConfirmPasswordResetBody,
      responses: {
        200: { description: 'The password is changed; a new token pair.', schema: TokenPairSchema },
        422: { description: '`verification_failed` (code): wrong, expired, spent, or no reset was asked for this email.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many attempts; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        await rateLimit(app, 'verification', clientAddress(ctx), `password-reset:${body.email}:confirm`);
        ctx.body = await confirmPasswordReset(app, body);
      },
    }),
  ];
}

import { TokenPairSchema } from '../../auth/schema';
import { clientAddress } from '../../core/client-address';
import type { AppContext } from '../../core/context';
import { currentUserId } from '../../core/middleware/auth';
import { ProblemSchema } from '../../core/openapi';
import { rateLimit } from '../../core/rate-limit';
import { route, type RouteSpec } from '../../core/route';
import { RULES } from '../../core/unstated-rules';
import { ChangePasswordBody, ProfileBody, ProfileSchema } from './schema';
import { changePassword, updateProfile } from './service';

/** The signed-in user's profile (PATCH /v1/me) and password (POST /v1/me/password). */
export function profileRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'patch',
      path: '/v1/me',
      summary: 'Change your name or timezone at once; a new email or phone is sent a code and replaces yours once confirmed.',
      tags: ['auth'],
      access: 'user',
      rules: [RULES.timezone, RULES.phoneNumberValid, RULES.contactAvailable],
      body: ProfileBody,
      responses: {
        200: { description: 'You as you are now, and the codes sent to a new email or phone.', schema: ProfileSchema },
        400: { description: '`validation_error`, or `email_taken` (email) when another account has that email.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many codes requested; see Retry-After.', schema: ProblemSchema },
        503: { description: '`verification_not_delivered`: the code could not be sent; nothing changed.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const userId = currentUserId(ctx.state);
        if (body.email !== undefined || body.phone !== undefined) await rateLimit(app, 'verification', clientAddress(ctx), `${userId}:contact-change`);
        ctx.body = await updateProfile(app, userId, body);
      },
    }),
    route({
      method: 'post',
      path: '/v1/me/password',
      summary: 'Change your password: every session ends (refresh tokens revoked) and you get a new token pair.',
      tags: ['auth'],
      access: 'user',
      rules: [RULES.currentPassword, RULES.newPasswordPolicy],
      body: ChangePasswordBody,
      responses: {
        200: { description: 'Changed; a new token pair for this client.', schema: TokenPairSchema },
        422: { description: '`current_password_incorrect` (currentPassword): nothing changed.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many attempts; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        const userId = currentUserId(ctx.state);
        await rateLimit(app, 'verification', clientAddress(ctx), `${userId}:password`);
        ctx.body = await changePassword(app, userId, body);
      },
    }),
  ];
}

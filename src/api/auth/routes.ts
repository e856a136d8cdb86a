import { route, type RouteSpec } from '../core/route';
import { RULES } from '../core/unstated-rules';
import type { AppContext } from '../core/context';
import { clientAddress } from '../core/client-address';
import { rateLimit } from '../core/rate-limit';
import { sendSignupCodes } from '../me/verifications/service';
import { ProblemSchema } from '../core/openapi';
import { LoginBody, RefreshTokenBody, TokenPairSchema, UserSchema, signupBody } from './schema';
import { createUser, login, logout, refresh } from './service';

/** Signup, login, token refresh and logout (the signed-in user is GET /v1/me, in me/). */
export function authRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'post',
      path: '/v1/auth/signup',
      summary: 'Create a customer account and start its onboarding.',
      tags: ['auth'],
      access: 'public',
      rules: [RULES.passwordPolicy, RULES.phoneNumberValid, RULES.dateOfBirthRange],
      idempotency: 'optional',
      body: signupBody(app.deps.now),
      responses: {
        201: { description: 'The new user; `Location` points at /v1/me.', schema: UserSchema },
        409: { description: 'An account cannot be created with these details.', schema: ProblemSchema },
        429: { description: '`rate_limited`: too many signups from this address or for this email; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        await rateLimit(app, 'signup', clientAddress(ctx), body.email);
        const user = await createUser(app, body, 'customer');
        // Codes go out at once, so the customer can verify before first signing in again.
        await sendSignupCodes(app, user.id);
        ctx.status = 201;
        ctx.set('Location', '/v1/me');
        ctx.body = user;
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/login',
      summary: 'Exchange an email and password for an access token and a refresh token.',
      tags: ['auth'],
      access: 'public',
      body: LoginBody,
      responses: {
        200: { description: 'Signed in.', schema: TokenPairSchema },
        401: { description: 'Invalid email or password.', schema: ProblemSchema },
        429: { description: 'Too many failed logins for this account or address; see Retry-After.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        ctx.body = await login(app, body, clientAddress(ctx));
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/refresh',
      summary: 'Spend a refresh token for a new token pair. Reusing a spent one revokes the session.',
      tags: ['auth'],
      access: 'public',
      body: RefreshTokenBody,
      responses: {
        200: { description: 'A new token pair; the presented refresh token is spent.', schema: TokenPairSchema },
        401: { description: 'The refresh token is invalid, expired, spent or revoked.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        ctx.body = await refresh(app, body.refreshToken);
      },
    }),
    route({
      method: 'post',
      path: '/v1/auth/logout',
      summary: "End the refresh token's session. Answers 204 whether or not the token was known.",
      tags: ['auth'],
      access: 'public',
      body: RefreshTokenBody,
      responses: { 204: { description: 'Signed out.' } },
      handler: async (ctx, { body }) => {
        await logout(app, body.refreshToken);
        ctx.status = 204;
      },
    }),
  ];
}

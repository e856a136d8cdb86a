import { timingSafeEqual, createHash } from 'node:crypto';
import type { Middleware } from 'koa';
import { problems } from '../errors';
import type { AppContext, AppState } from '../context';
import { verifyAccessToken } from '../access-tokens';

/**
 * Who may call a route: anyone, any signed-in user, a customer, an operator, the bank
 * side holding the service token (`/internal/v1`), or `internal`: the service token or
 * an operator (operator views of the ledger).
 */
export type Access = 'public' | 'user' | 'customer' | 'operator' | 'service' | 'internal';

function bearer(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** Constant-time comparison of equal-length digests, so token length leaks nothing. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

export function authenticate(app: AppContext, access: Access, cookie?: string): Middleware<AppState> {
  return async (ctx, next) => {
    if (access === 'public') return next();
    // A route may also take its token from a cookie (the codec's browser sign-in); the header wins.
    const header = ctx.get('authorization');
    const token = header || !cookie ? bearer(header) : ctx.cookies.get(cookie);
    if (!token) throw problems.unauthenticated();
    if (access === 'service' || access === 'internal') {
      if (sameSecret(token, app.config.auth.serviceToken)) {
        ctx.state.principal = { kind: 'service' };
        return next();
      }
      if (access === 'service') throw problems.unauthenticated('A valid service token is required.');
    }
    const principal = verifyAccessToken(app.config.auth, token, app.deps.now());
    if (!principal || principal.kind !== 'user') throw problems.unauthenticated('The access token is invalid or expired.');
    const role = access === 'internal' ? 'operator' : access;
    if (role !== 'user' && principal.role !== role) throw problems.forbidden();
    ctx.state.principal = principal;
    ctx.state.log = ctx.state.log.child({ userId: principal.userId });
    return next();
  };
}

/** The signed-in user's id; routes with `user`/`customer`/`operator` access always have one. */
export function currentUserId(state: AppState): string {
  if (state.principal?.kind !== 'user') throw problems.unauthenticated();
  return state.principal.userId;
}

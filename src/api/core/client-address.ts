import type { Middleware, ParameterizedContext } from 'koa';
import type { AppState } from './context';
import { resolveClientAddress, unmapped, type TrustProxy } from './trust-proxy';

/** The client's address per request, as TRUST_PROXY says to read it (./trust-proxy.ts). */

/** Sets `ctx.state.clientAddress` once per request. */
export function clientAddressMiddleware(trust: TrustProxy): Middleware<AppState> {
  return async (ctx, next) => {
    ctx.state.clientAddress = resolveClientAddress(trust, ctx.req.socket.remoteAddress ?? '', ctx.get('x-forwarded-for'));
    await next();
  };
}

/** The client address of a request (the socket's when the middleware did not run, as in unit tests). */
export function clientAddress(ctx: ParameterizedContext<AppState>): string {
  return ctx.state.clientAddress ?? unmapped(ctx.req.socket.remoteAddress ?? 'unknown');
}

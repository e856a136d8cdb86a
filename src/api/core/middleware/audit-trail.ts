import { randomUUID } from 'node:crypto';
import type { Middleware, ParameterizedContext } from 'koa';
import type { AppContext, AppState } from '../context';
import { clientAddress } from '../client-address';

/**
 * The operators' trail. Every request to an operator or bank-side route (`/internal/v1/*`,
 * `/v1/operator/*`) is written to the append-only `audit_log` once it has been answered:
 * who (user and role, `service`, or `anonymous` when no credential was accepted), what
 * (method, route pattern, path, resource id, status) and the request id. It matches by
 * path prefix, not by route, so routes others add under these prefixes are covered
 * without being listed anywhere.
 */

export const AUDITED_PREFIXES = ['/internal/v1/', '/v1/operator/'] as const;

export const isAudited = (path: string) => AUDITED_PREFIXES.some((prefix) => path.startsWith(prefix) || `${path}/` === prefix);

/** The resource a request acted on: the `id` path parameter, else the first one, else what it created (Location). */
function resourceIdOf(ctx: ParameterizedContext<AppState>): string | null {
  const params = (ctx as { params?: Record<string, string> }).params ?? {};
  const fromPath = params.id ?? Object.values(params)[0];
  if (fromPath) return fromPath.slice(0, 200);
  const location = ctx.response.get('location');
  return location ? (location.split('/').pop() ?? null) : null;
}

export function auditTrail(app: AppContext): Middleware<AppState> {
  return async (ctx, next) => {
    if (!isAudited(ctx.path) || ctx.method === 'OPTIONS') return next();
    try {
      await next();
    } finally {
      const principal = ctx.state.principal;
      const matched = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      try {
        await app.deps.db('audit_log').insert({
          id: randomUUID(),
          actor_type: principal ? (principal.kind === 'service' ? 'service' : 'user') : 'anonymous',
          actor_user_id: principal?.kind === 'user' ? principal.userId : null,
          actor_role: principal?.kind === 'user' ? principal.role : null,
          method: ctx.method,
          route: typeof matched === 'string' ? matched : 'unmatched',
          path: ctx.path.slice(0, 2000),
          resource_id: resourceIdOf(ctx),
          status: ctx.status,
          request_id: ctx.state.requestId,
          client_address: clientAddress(ctx),
          created_at: app.deps.now(),
        });
      } catch (err) {
        // The action has already happened; failing the answer now would only hide that.
        // The log line carries the same facts for whoever reconciles the trail.
        ctx.state.log.error({ err, method: ctx.method, path: ctx.path, status: ctx.status }, 'audit trail write failed');
      }
    }
  };
}

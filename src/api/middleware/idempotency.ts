import { createHash } from 'node:crypto';
import type { Middleware, ParameterizedContext } from 'koa';
import { problems } from '../errors';
import type { AppContext, AppState } from '../context';
import { renderProblem, toProblem } from './problem';

/**
 * Idempotency-Key with Stripe's semantics. The first request with a key claims it in
 * PostgreSQL (a primary-key insert, so exactly one concurrent request wins); its
 * response, success or 4xx, is stored and replayed for the same key and body. The same
 * key with another body or route is a 422; while the first is still running, a 409.
 * 5xx results are not stored, so a retry after an outage runs again. Keys are scoped
 * per caller and expire after 24 h (a Temporal Schedule deletes them).
 */

/** A running claim older than this is taken to be from a crashed process and is taken over. */
const ABANDONED_CLAIM_MS = 60_000;
const MAX_KEY_LENGTH = 255;
const REPLAYED_HEADERS = ['location', 'content-type'];

interface StoredKey {
  method: string;
  route: string;
  request_hash: string;
  state: 'running' | 'completed';
  response_status: number | null;
  response_headers: Record<string, string> | null;
  response_body: unknown;
  created_at: Date;
}

/** JSON with sorted keys, so two bodies that differ only in key order hash the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

function scopeOf(state: AppState): string {
  const principal = state.principal;
  if (!principal) return 'public';
  return principal.kind === 'service' ? 'service' : `user:${principal.userId}`;
}

export function idempotent(app: AppContext, options: { required: boolean; route: string }): Middleware<AppState> {
  const { db, now } = app.deps;
  const ttlMs = app.config.idempotency.ttlSeconds * 1000;
  const table = () => db<StoredKey & { scope: string; key: string }>('idempotency_keys');

  async function claim(scope: string, key: string, requestHash: string, method: string): Promise<boolean> {
    const rows = await table()
      .insert({ scope, key, method, route: options.route, request_hash: requestHash, state: 'running', created_at: now() })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    return rows.length === 1;
  }

  /** Frees a stale row (expired, or a crashed run) so the current request can claim it. */
  async function release(scope: string, key: string, createdAt: Date): Promise<void> {
    await table().where({ scope, key, created_at: createdAt }).delete();
  }

  async function store(scope: string, key: string, ctx: ParameterizedContext<AppState>): Promise<void> {
    const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((h) => (ctx.response.get(h) ? [[h, ctx.response.get(h)]] : [])));
    await table()
      .where({ scope, key })
      .update({
        state: 'completed',
        response_status: ctx.status,
        response_headers: JSON.stringify(headers) as never,
        response_body: JSON.stringify(ctx.body ?? null) as never,
        completed_at: now(),
      } as never);
  }

  return async (ctx, next) => {
    const key = ctx.get('idempotency-key');
    if (!key) {
      if (options.required) throw problems.field('header', 'Idempotency-Key', 'required', 'This request requires an Idempotency-Key header.');
      return next();
    }
    if (key.length > MAX_KEY_LENGTH) {
      throw problems.field('header', 'Idempotency-Key', 'too_long', `Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters.`);
    }
    const scope = scopeOf(ctx.state);
    const requestHash = createHash('sha256').update(canonicalJson((ctx.request as { body?: unknown }).body ?? null)).digest('hex');

    for (let attempt = 0; !(await claim(scope, key, requestHash, ctx.method)); attempt++) {
      const existing = await table().where({ scope, key }).first();
      if (!existing) {
        if (attempt < 2) continue; // released between our insert and select
        throw problems.idempotencyKeyInUse();
      }
      const age = now().getTime() - existing.created_at.getTime();
      if (age > ttlMs || (existing.state === 'running' && age > ABANDONED_CLAIM_MS)) {
        await release(scope, key, existing.created_at);
        continue;
      }
      if (existing.route !== options.route || existing.request_hash !== requestHash) throw problems.idempotencyKeyReused();
      if (existing.state === 'running') throw problems.idempotencyKeyInUse();
      ctx.status = existing.response_status ?? 200;
      ctx.set(existing.response_headers ?? {});
      ctx.set('Idempotent-Replayed', 'true');
      ctx.body = existing.response_body;
      return;
    }

    try {
      await next();
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) {
        await table().where({ scope, key }).delete().catch(() => undefined);
        throw err;
      }
      renderProblem(ctx, problem);
    }
    await store(scope, key, ctx);
  };
}

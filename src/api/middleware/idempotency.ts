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

/**
 * Outcomes worth replaying: what the request did. Outages (5xx) and throttling (429)
 * say nothing about the request, so the key is released and a retry runs again.
 */
function isReplayable(status: number): boolean {
  return status < 500 && status !== 429;
}

export function idempotent(app: AppContext, options: { required: boolean; route: string }): Middleware<AppState> {
  const { db, now } = app.deps;
  const ttlMs = app.config.idempotency.ttlSeconds * 1000;
  const table = () => db<StoredKey & { scope: string; key: string }>('idempotency_keys');

  /** Inserts the claim; returns its `created_at`, which identifies this claim from then on, or undefined when the key is taken. */
  async function claim(scope: string, key: string, requestHash: string, method: string): Promise<Date | undefined> {
    const claimedAt = now();
    const rows = await table()
      .insert({ scope, key, method, route: options.route, request_hash: requestHash, state: 'running', created_at: claimedAt })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    return rows.length === 1 ? claimedAt : undefined;
  }

  /**
   * Frees the row if it is stale (expired, or a claim left running by a crashed process)
   * so the current request can claim it. The staleness test is in the delete itself, so
   * a fresh claim made meanwhile by another request is never removed.
   */
  async function releaseIfStale(scope: string, key: string): Promise<void> {
    const at = now().getTime();
    await table()
      .where({ scope, key })
      .andWhere((stale) =>
        stale
          .where('created_at', '<', new Date(at - ttlMs))
          .orWhere((abandoned) => abandoned.where({ state: 'running' }).andWhere('created_at', '<', new Date(at - ABANDONED_CLAIM_MS))),
      )
      .delete();
  }

  /** Our own claim only: if it was taken over as abandoned, the new owner's row is left alone. */
  const ownClaim = (scope: string, key: string, claimedAt: Date) => table().where({ scope, key, created_at: claimedAt });

  async function store(scope: string, key: string, claimedAt: Date, ctx: ParameterizedContext<AppState>): Promise<void> {
    const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((h) => (ctx.response.get(h) ? [[h, ctx.response.get(h)]] : [])));
    await ownClaim(scope, key, claimedAt).update({
      state: 'completed',
      response_status: ctx.status,
      response_headers: JSON.stringify(headers) as never,
      response_body: JSON.stringify(ctx.body ?? null) as never,
      completed_at: now(),
    } as never);
  }

  /** Gives the key back after a 5xx, so a retry runs the request again. */
  async function abandon(scope: string, key: string, claimedAt: Date): Promise<void> {
    await ownClaim(scope, key, claimedAt)
      .delete()
      .catch(() => undefined);
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
    // The route is a pattern (`POST /v1/accounts/:id/payments`), so the concrete path and
    // query are part of what must match: the same key and body against another account
    // is a different request, not a replay.
    const fingerprint = { path: ctx.path, query: ctx.query, body: (ctx.request as { body?: unknown }).body ?? null };
    const requestHash = createHash('sha256').update(canonicalJson(fingerprint)).digest('hex');

    let claimedAt: Date | undefined;
    for (let attempt = 0; !(claimedAt = await claim(scope, key, requestHash, ctx.method)); attempt++) {
      // Another request can free or take the key between our insert and select; a few
      // rounds settle that, and a key still contended after them is reported as in use.
      if (attempt >= 2) throw problems.idempotencyKeyInUse();
      const existing = await table().where({ scope, key }).first();
      if (!existing) continue;
      const age = now().getTime() - existing.created_at.getTime();
      if (age > ttlMs || (existing.state === 'running' && age > ABANDONED_CLAIM_MS)) {
        await releaseIfStale(scope, key);
        continue;
      }
      if (existing.route !== options.route || existing.request_hash !== requestHash) throw problems.idempotencyKeyReused();
      if (existing.state === 'running') throw problems.idempotencyKeyInUse();
      ctx.status = existing.response_status ?? 200;
      ctx.set(existing.response_headers ?? {});
      ctx.set('Idempotent-Replayed', 'true');
      // Assigning null would turn a bodiless 202 into a 204.
      if (existing.response_body !== null) ctx.body = existing.response_body;
      return;
    }

    try {
      await next();
    } catch (err) {
      const problem = toProblem(err);
      if (!isReplayable(problem.status)) {
        await abandon(scope, key, claimedAt);
        throw err;
      }
      renderProblem(ctx, problem);
    }
    // A 5xx answered without throwing (e.g. a 503 body) is an outage too: never replayed.
    if (!isReplayable(ctx.status)) await abandon(scope, key, claimedAt);
    else await store(scope, key, claimedAt, ctx);
  };
}

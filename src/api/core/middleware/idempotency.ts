import { createHash } from 'node:crypto';
import type { Middleware, ParameterizedContext } from 'koa';
import { problems } from '../errors';
import type { AppContext, AppState } from '../context';
import { renderProblem, toProblem } from './problem';
import { clientAddress } from '../client-address';

/**
 * Idempotency-Key with Stripe's semantics. The first request with a key claims it in
 * PostgreSQL (a primary-key insert, so exactly one concurrent request wins); its
 * response, success or 4xx, is stored and replayed for the same key and body. The same
 * key with another body or route is a 422; while the first is still running, a 409.
 * 5xx results are not stored, so a retry after an outage runs again. Keys are scoped
 * per caller (a user, the service, or for anonymous requests the client address) and
 * expire after 24 h (a Temporal Schedule deletes them).
 *
 * A running claim holds a lease that its request renews every third of the lease while
 * it runs. Only a claim whose lease has lapsed (its process crashed or lost the
 * database) is taken over: a slow request keeps its key however long it takes.
 */

/** How long a claim stays held without a renewal; renewed every third of it. */
export const DEFAULT_LEASE_MS = 15_000;
/** Claims made before leases existed are judged by age, as they were then. */
const LEGACY_ABANDONED_CLAIM_MS = 60_000;
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
  lease_expires_at: Date | null;
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

/** Anonymous keys are per client address, so one stranger cannot replay or block another's. */
function scopeOf(ctx: ParameterizedContext<AppState>): string {
  const principal = ctx.state.principal;
  if (!principal) return `address:${clientAddress(ctx)}`;
  return principal.kind === 'service' ? 'service' : `user:${principal.userId}`;
}

/** True when a running claim's holder is gone: its lease lapsed (or, for a pre-lease row, it is old). */
function isAbandoned(row: Pick<StoredKey, 'state' | 'created_at' | 'lease_expires_at'>, at: number): boolean {
  if (row.state !== 'running') return false;
  if (row.lease_expires_at) return row.lease_expires_at.getTime() <= at;
  return at - row.created_at.getTime() > LEGACY_ABANDONED_CLAIM_MS;
}

/**
 * Outcomes worth replaying: what the request did. Outages (5xx) and throttling (429)
 * say nothing about the request, so the key is released and a retry runs again.
 */
function isReplayable(status: number): boolean {
  return status < 500 && status !== 429;
}

/** The client's Idempotency-Key header ('' when none was sent). */
export function idempotencyKeyOf(ctx: ParameterizedContext<AppState>): string {
  return ctx.get('idempotency-key');
}

export interface IdempotencyOptions {
  required: boolean;
  route: string;
  /** Lease length on the app's clock; tests shorten it. */
  leaseMs?: number;
  /** Wall-clock period of renewals; a third of the lease unless a test runs the clock fast. */
  renewEveryMs?: number;
}

export function idempotent(app: AppContext, options: IdempotencyOptions): Middleware<AppState> {
  const { db, now } = app.deps;
  const ttlMs = app.config.idempotency.ttlSeconds * 1000;
  const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
  const leaseEnd = () => new Date(now().getTime() + leaseMs);
  const table = () => db<StoredKey & { scope: string; key: string }>('idempotency_keys');

  /** Inserts the claim; returns its `created_at`, which identifies this claim from then on, or undefined when the key is taken. */
  async function claim(scope: string, idempotencyKey: string, requestHash: string, method: string): Promise<Date | undefined> {
    const claimedAt = now();
    const rows = await table()
      .insert({
        scope,
        key: idempotencyKey,
        method,
        route: options.route,
        request_hash: requestHash,
        state: 'running',
        created_at: claimedAt,
        lease_expires_at: new Date(claimedAt.getTime() + leaseMs),
      })
      .onConflict(['scope', 'key'])
      .ignore()
      .returning('key');
    return rows.length === 1 ? claimedAt : undefined;
  }

  /**
   * Frees the row if it is stale (expired, or a claim whose holder's lease lapsed) so
   * the current request can claim it. The staleness test is in the delete itself, so a
   * fresh claim, or a lease renewed meanwhile, is never removed.
   */
  async function releaseIfStale(scope: string, idempotencyKey: string): Promise<void> {
    const at = now();
    await table()
      .where({ scope, key: idempotencyKey })
      .andWhere((stale) =>
        stale
          .where('created_at', '<', new Date(at.getTime() - ttlMs))
          .orWhere((lapsed) => lapsed.where({ state: 'running' }).andWhere('lease_expires_at', '<=', at))
          .orWhere((legacy) =>
            legacy
              .where({ state: 'running' })
              .whereNull('lease_expires_at')
              .andWhere('created_at', '<', new Date(at.getTime() - LEGACY_ABANDONED_CLAIM_MS)),
          ),
      )
      .delete();
  }

  /**
   * Renews the lease while the request runs. A lease that already lapsed is not renewed:
   * another request may have taken the key over, and the row is no longer ours.
   */
  function holdLease(scope: string, idempotencyKey: string, claimedAt: Date): () => void {
    const timer = setInterval(() => {
      void ownClaim(scope, idempotencyKey, claimedAt)
        .where({ state: 'running' })
        .andWhere('lease_expires_at', '>', now())
        .update({ lease_expires_at: leaseEnd() })
        .catch((err: unknown) => app.deps.logger.warn({ err, scope, idempotencyKey }, 'idempotency lease renewal failed'));
    }, options.renewEveryMs ?? Math.floor(leaseMs / 3));
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Our own claim only: if it was taken over as abandoned, the new owner's row is left alone. */
  const ownClaim = (scope: string, idempotencyKey: string, claimedAt: Date) => table().where({ scope, key: idempotencyKey, created_at: claimedAt });

  async function store(scope: string, idempotencyKey: string, claimedAt: Date, ctx: ParameterizedContext<AppState>): Promise<void> {
    const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((h) => (ctx.response.get(h) ? [[h, ctx.response.get(h)]] : [])));
    await ownClaim(scope, idempotencyKey, claimedAt).update({
      state: 'completed',
      response_status: ctx.status,
      response_headers: JSON.stringify(headers) as never,
      response_body: JSON.stringify(ctx.body ?? null) as never,
      completed_at: now(),
    } as never);
  }

  /** Gives the key back after a 5xx, so a retry runs the request again. */
  async function abandon(scope: string, idempotencyKey: string, claimedAt: Date): Promise<void> {
    await ownClaim(scope, idempotencyKey, claimedAt)
      .delete()
      .catch(() => undefined);
  }

  return async (ctx, next) => {
    const idempotencyKey = idempotencyKeyOf(ctx);
    if (!idempotencyKey) {
      if (options.required) throw problems.field('header', 'Idempotency-Key', 'required', 'This request requires an Idempotency-Key header.');
      return next();
    }
    if (idempotencyKey.length > MAX_KEY_LENGTH) {
      throw problems.field('header', 'Idempotency-Key', 'too_long', `Idempotency-Key must be at most ${MAX_KEY_LENGTH} characters.`);
    }
    const scope = scopeOf(ctx);
    // The route is a pattern (`POST /v1/accounts/:id/payments`), so the concrete path and
    // query are part of what must match: the same key and body against another account
    // is a different request, not a replay.
    const fingerprint = { path: ctx.path, query: ctx.query, body: (ctx.request as { body?: unknown }).body ?? null };
    const requestHash = createHash('sha256').update(canonicalJson(fingerprint)).digest('hex');

    let claimedAt: Date | undefined;
    for (let attempt = 0; !(claimedAt = await claim(scope, idempotencyKey, requestHash, ctx.method)); attempt++) {
      // Another request can free or take the key between our insert and select; a few
      // rounds settle that, and a key still contended after them is reported as in use.
      if (attempt >= 2) throw problems.idempotencyKeyInUse();
      const existing = await table().where({ scope, key: idempotencyKey }).first();
      if (!existing) continue;
      const at = now().getTime();
      if (at - existing.created_at.getTime() > ttlMs || isAbandoned(existing, at)) {
        await releaseIfStale(scope, idempotencyKey);
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

    const releaseLease = holdLease(scope, idempotencyKey, claimedAt);
    try {
      await next();
    } catch (err) {
      const problem = toProblem(err);
      if (!isReplayable(problem.status)) {
        releaseLease();
        await abandon(scope, idempotencyKey, claimedAt);
        throw err;
      }
      renderProblem(ctx, problem);
    } finally {
      releaseLease();
    }
    // A 5xx answered without throwing (e.g. a 503 body) is an outage too: never replayed.
    if (!isReplayable(ctx.status)) await abandon(scope, idempotencyKey, claimedAt);
    else await store(scope, idempotencyKey, claimedAt, ctx);
  };
}

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa, { type Middleware } from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import pino from 'pino';
import type { AppContext, AppState } from '../../src/api/core/context';
import { problems } from '../../src/api/core/errors';
import { idempotent } from '../../src/api/core/middleware/idempotency';
import { problemMiddleware } from '../../src/api/core/middleware/problem';
import type { Db } from '../../src/db/knex';
import { request, type HttpResponse, type RequestOptions } from '../helpers/http';
import { testConfig, testDb } from '../helpers/services';
import { eventually } from '../helpers/wait';
import { createLedger } from '../../src/ledger/service';

/**
 * The Idempotency-Key middleware on a minimal Koa app over the real test database.
 * Each handler run inserts one row into a scratch table, so "how many effects did this
 * key have" is a count, not a guess. Every test uses fresh keys and users.
 */

const EFFECTS = 'idem_test_effects';
const DAY_MS = 24 * 3600 * 1000;
/** The `/leased` route's lease, on the test clock (which a test may run 20 times faster). */
const LEASE_MS = 6000;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('Idempotency-Key middleware', function () {
  let db: Db;
  let server: Server;
  let baseUrl: string;
  /** Added to the wall clock by the middleware's `now`, to age keys. */
  let clockOffsetMs = 0;
  /** When set, the middleware's clock runs `factor` times as fast as the wall clock from `since`. */
  let fastClock: { since: number; factor: number } | undefined;
  const testNow = () => {
    const wall = Date.now();
    return new Date(wall + clockOffsetMs + (fastClock ? (wall - fastClock.since) * (fastClock.factor - 1) : 0));
  };
  /** Tags whose next handler run throws a plain Error (a 500). */
  const crashOnce = new Set<string>();
  /** Set by a test to hold the first `hold: true` request inside the handler until it resolves `release`. */
  let gate: { entered: Deferred; release: Deferred; holding?: boolean } | undefined;

  /** Runs the effect, then answers as the body's `outcome` asks. */
  const handler: Middleware<AppState> = async (ctx) => {
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const id = randomUUID();
    const tag = typeof body.tag === 'string' ? body.tag : null;
    await db(EFFECTS).insert({
      id,
      idem_key: ctx.get('idempotency-key') || null,
      tag,
      route: `${ctx.method} ${ctx.path}`,
      user_id: ctx.state.principal?.kind === 'user' ? ctx.state.principal.userId : null,
    });
    if (body.hold === true && gate && !gate.holding) {
      gate.holding = true;
      gate.entered.resolve();
      await gate.release.promise;
    }
    if (tag && crashOnce.delete(tag)) throw new Error('the handler crashed');
    if (body.outcome === 'conflict') throw problems.conflict(`Thing ${tag} conflicts.`);
    if (body.outcome === 'unavailable') {
      ctx.status = 503;
      ctx.body = { status: 'unavailable' };
      return;
    }
    ctx.status = 201;
    ctx.set('Location', `/things/${id}`);
    ctx.body = { id, tag, amount: body.amount ?? null };
  };

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
    await db.raw(`
      create table if not exists ${EFFECTS} (
        id uuid primary key,
        idem_key text,
        tag text,
        route text not null,
        user_id text,
        created_at timestamptz not null default now()
      )`);

    const logger = pino({ level: 'silent' });
    const appContext: AppContext = {
      config: testConfig(),
      deps: { db, temporal: undefined as never, logger, ledger: createLedger(db), billers: undefined as never, notifier: undefined as never, now: testNow },
    };
    const optional = (route: string) => idempotent(appContext, { required: false, route });

    const router = new Router<AppState>();
    router.post('/things', optional('POST /things'), handler);
    router.post('/other', optional('POST /other'), handler);
    router.post('/accounts/:id/payments', optional('POST /accounts/:id/payments'), handler);
    router.post('/required', idempotent(appContext, { required: true, route: 'POST /required' }), handler);
    // Renewed every 100 ms of wall time, so a test may run the clock fast.
    router.post('/leased', idempotent(appContext, { required: false, route: 'POST /leased', leaseMs: LEASE_MS, renewEveryMs: 100 }), handler);

    const app = new Koa<AppState>();
    app.use(async (ctx, next) => {
      ctx.state.requestId = randomUUID();
      ctx.state.log = logger;
      const userId = ctx.get('x-test-user');
      if (userId) ctx.state.principal = { kind: 'user', userId, role: 'customer' };
      // What clientAddressMiddleware sets in the real app.
      const address = ctx.get('x-test-address');
      if (address) ctx.state.clientAddress = address;
      await next();
    });
    app.use(problemMiddleware());
    app.use(bodyParser());
    app.use(router.routes());

    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  afterEach(() => {
    clockOffsetMs = 0;
    fastClock = undefined;
    crashOnce.clear();
    gate?.release.resolve();
    gate = undefined;
  });

  /** A fresh caller and key per test, so runs and tests never share a row. */
  function caller() {
    const user = `user-${randomUUID()}`;
    const key = `key-${randomUUID()}`;
    const tag = `tag-${randomUUID()}`;
    const post = (path: string, options: RequestOptions & { key?: string | null; as?: string } = {}) => {
      const headers: Record<string, string> = { 'x-test-user': options.as ?? user, ...options.headers };
      const idempotencyKey = options.key === undefined ? key : options.key;
      if (idempotencyKey !== null) headers['idempotency-key'] = idempotencyKey;
      return request(baseUrl, 'POST', path, { ...options, headers });
    };
    return { user, key, tag, post };
  }

  const effectsWithKey = async (key: string) => (await db(EFFECTS).where({ idem_key: key })).length;
  const effectsWithTag = async (tag: string) => (await db(EFFECTS).where({ tag })).length;

  function assertProblem(res: HttpResponse, status: number, type: string) {
    assert.equal(res.status, status, JSON.stringify(res.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.body.type, type);
  }

  describe('replay', () => {
    it('answers the same key and body with the first status, body and Location, marked as replayed', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { body: { tag, amount: '1050' } });
      const second = await post('/things', { body: { tag, amount: '1050' } });
      assert.equal(first.status, 201);
      assert.equal(first.headers.get('idempotent-replayed'), null);
      assert.equal(second.status, 201);
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('location'), `/things/${first.body.id}`);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(await effectsWithKey(key), 1);
    });

    it('replays with the original content type', async () => {
      const { tag, post } = caller();
      const first = await post('/things', { body: { tag } });
      const second = await post('/things', { body: { tag } });
      assert.match(first.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(second.headers.get('content-type'), first.headers.get('content-type'));
    });

    it('treats a body with its keys in another order as the same body', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { rawBody: `{"tag":"${tag}","amount":"1050","to":{"email":"a@example.com","phone":"+14155550123"}}` });
      const second = await post('/things', { rawBody: `{"to":{"phone":"+14155550123","email":"a@example.com"},"amount":"1050","tag":"${tag}"}` });
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(second.body, first.body);
      assert.equal(await effectsWithKey(key), 1);
    });

    it('stores a 4xx problem from the handler and replays it without running the handler again', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { body: { tag, outcome: 'conflict' } });
      const second = await post('/things', { body: { tag, outcome: 'conflict' } });
      assertProblem(first, 409, 'conflict');
      assertProblem(second, 409, 'conflict');
      assert.deepEqual(second.body, first.body);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.equal(await effectsWithKey(key), 1);
    });
  });

  describe('misuse of a key', () => {
    it('answers the same key with a different body with 422 idempotency_key_reused naming the header', async () => {
      const { key, tag, post } = caller();
      await post('/things', { body: { tag, amount: '1050' } });
      const second = await post('/things', { body: { tag, amount: '9999' } });
      assertProblem(second, 422, 'idempotency_key_reused');
      assert.deepEqual(
        second.body.errors.map((e: { field: string; in: string }) => [e.field, e.in]),
        [['Idempotency-Key', 'header']],
      );
      assert.equal(await effectsWithKey(key), 1);
    });

    it('answers the same key on another route with 422', async () => {
      const { key, tag, post } = caller();
      await post('/things', { body: { tag } });
      const second = await post('/other', { body: { tag } });
      assertProblem(second, 422, 'idempotency_key_reused');
      assert.equal(await effectsWithKey(key), 1);
    });

    it('answers the same key on the same route pattern with another path parameter with 422', async () => {
      const { key, tag, post } = caller();
      const first = await post(`/accounts/${randomUUID()}/payments`, { body: { tag, amount: '500' } });
      const second = await post(`/accounts/${randomUUID()}/payments`, { body: { tag, amount: '500' } });
      assert.equal(first.status, 201);
      assertProblem(second, 422, 'idempotency_key_reused');
      assert.equal(await effectsWithKey(key), 1);
    });

    it('rejects a key longer than 255 characters with 400 naming the header, without running the handler', async () => {
      const { tag, post } = caller();
      const res = await post('/things', { key: 'k'.repeat(256), body: { tag } });
      assertProblem(res, 400, 'validation_error');
      assert.deepEqual(
        res.body.errors.map((e: { field: string; in: string }) => [e.field, e.in]),
        [['Idempotency-Key', 'header']],
      );
      assert.equal(await effectsWithTag(tag), 0);
    });

    it('accepts a key of exactly 255 characters', async () => {
      const { tag, post } = caller();
      const res = await post('/things', { key: `${randomUUID()}`.padEnd(255, 'k'), body: { tag } });
      assert.equal(res.status, 201);
    });

    it('rejects a request without the header with 400 when the route requires one', async () => {
      const { tag, post } = caller();
      const res = await post('/required', { key: null, body: { tag } });
      assertProblem(res, 400, 'validation_error');
      assert.deepEqual(
        res.body.errors.map((e: { field: string; in: string }) => [e.field, e.in]),
        [['Idempotency-Key', 'header']],
      );
      assert.equal(await effectsWithTag(tag), 0);
    });
  });

  describe('concurrency', () => {
    /** Fires `count` identical requests at once; the one that runs is held until all the others have answered. */
    async function raceWhileHeld(post: ReturnType<typeof caller>['post'], body: object, count: number) {
      gate = { entered: deferred(), release: deferred() };
      const release = gate.release;
      let answered = 0;
      return Promise.all(
        Array.from({ length: count }, () =>
          post('/things', { body }).then((res) => {
            if (++answered === count - 1) release.resolve();
            return res;
          }),
        ),
      );
    }

    it('lets exactly one of 10 concurrent requests with one key run; the others get 409 with Retry-After', async () => {
      const { key, tag, post } = caller();
      const responses = await raceWhileHeld(post, { tag, hold: true }, 10);
      const winners = responses.filter((r) => r.status === 201);
      const losers = responses.filter((r) => r.status !== 201);
      assert.equal(winners.length, 1);
      assert.equal(losers.length, 9);
      for (const res of losers) {
        assertProblem(res, 409, 'idempotency_key_in_use');
        assert.ok(Number(res.headers.get('retry-after')) > 0, 'Retry-After is set');
      }
      assert.equal(await effectsWithKey(key), 1);
    });

    it('replays the held request on a retry once it has completed', async () => {
      const { key, tag, post } = caller();
      gate = { entered: deferred(), release: deferred() };
      const held = post('/things', { body: { tag, hold: true } });
      await gate.entered.promise;
      const during = await post('/things', { body: { tag, hold: true } });
      gate.release.resolve();
      const first = await held;
      const after = await post('/things', { body: { tag, hold: true } });
      assertProblem(during, 409, 'idempotency_key_in_use');
      assert.equal(first.status, 201);
      assert.equal(after.status, 201);
      assert.deepEqual(after.body, first.body);
      assert.equal(after.headers.get('idempotent-replayed'), 'true');
      assert.equal(await effectsWithKey(key), 1);
    });
  });

  describe('scope and lifetime', () => {
    it('scopes keys per user: two users with the same key each get their own effect', async () => {
      const a = caller();
      const b = caller();
      const fromA = await a.post('/things', { body: { tag: a.tag } });
      const fromB = await b.post('/things', { key: a.key, body: { tag: a.tag } });
      assert.equal(fromA.status, 201);
      assert.equal(fromB.status, 201);
      assert.equal(fromB.headers.get('idempotent-replayed'), null);
      assert.notEqual(fromB.body.id, fromA.body.id);
      assert.deepEqual((await db(EFFECTS).where({ idem_key: a.key }).orderBy('user_id')).map((r) => r.user_id), [a.user, b.user].sort());
    });

    it('does not store a 500: a retry with the same key runs the handler again', async () => {
      const { key, tag, post } = caller();
      crashOnce.add(tag);
      const first = await post('/things', { body: { tag } });
      const retry = await post('/things', { body: { tag } });
      assertProblem(first, 500, 'internal_error');
      assert.equal(retry.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), null);
      assert.equal(await effectsWithKey(key), 2);
    });

    it('does not store a 5xx the handler answers without throwing', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { body: { tag, outcome: 'unavailable' } });
      const retry = await post('/things', { body: { tag, outcome: 'unavailable' } });
      assert.equal(first.status, 503);
      assert.equal(retry.status, 503);
      assert.equal(retry.headers.get('idempotent-replayed'), null);
      assert.equal(await effectsWithKey(key), 2);
    });

    it('treats a key older than the TTL as new', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { body: { tag } });
      clockOffsetMs = DAY_MS + 1000;
      const later = await post('/things', { body: { tag } });
      assert.equal(later.status, 201);
      assert.equal(later.headers.get('idempotent-replayed'), null);
      assert.notEqual(later.body.id, first.body.id);
      assert.equal(await effectsWithKey(key), 2);
    });

    it('still replays a key just inside the TTL', async () => {
      const { key, tag, post } = caller();
      await post('/things', { body: { tag } });
      clockOffsetMs = DAY_MS - 1000;
      const later = await post('/things', { body: { tag } });
      assert.equal(later.headers.get('idempotent-replayed'), 'true');
      assert.equal(await effectsWithKey(key), 1);
    });

    it('takes over a running claim whose lease lapsed (its process crashed)', async () => {
      const { user, key, tag, post } = caller();
      const body = { tag };
      // What a process that died mid-request leaves behind: a running claim nobody renews.
      const first = await post('/things', { body });
      await db('idempotency_keys')
        .where({ scope: `user:${user}`, key })
        .update({ state: 'running', response_status: null, lease_expires_at: new Date(Date.now() - 1000) });
      const retry = await post('/things', { body });
      assert.equal(retry.status, 201);
      assert.notEqual(retry.body.id, first.body.id);
      assert.equal(await effectsWithKey(key), 2);
    });

    it('still takes over a pre-lease running claim older than a minute', async () => {
      const { user, key, tag, post } = caller();
      const first = await post('/things', { body: { tag } });
      await db('idempotency_keys')
        .where({ scope: `user:${user}`, key })
        .update({ state: 'running', response_status: null, lease_expires_at: null, created_at: new Date(Date.now() - 120_000) });
      const retry = await post('/things', { body: { tag } });
      assert.equal(retry.status, 201);
      assert.notEqual(retry.body.id, first.body.id);
    });

    it('keeps the key of a request that runs longer than a minute while its holder renews the lease', async () => {
      const { user, key, tag, post } = caller();
      const body = { tag, hold: true };
      gate = { entered: deferred(), release: deferred() };
      // Time runs 20 times faster: a minute passes in three seconds, the holder renewing
      // its 6-second lease every 100 ms of wall time as it would every 2 s.
      fastClock = { since: Date.now(), factor: 20 };
      const slow = post('/leased', { body });
      await gate.entered.promise;
      await eventually('the claim to be a minute old on the fast clock', async () => {
        const row = await db('idempotency_keys').where({ scope: `user:${user}`, key }).first('created_at');
        return row && testNow().getTime() - row.created_at.getTime() > 61_000 ? true : undefined;
      }, 10_000, 50);
      const during = await post('/leased', { body });
      gate.release.resolve();
      const first = await slow;
      assertProblem(during, 409, 'idempotency_key_in_use');
      assert.equal(first.status, 201);
      assert.equal(await effectsWithKey(key), 1);
    });

    it("does not let a request whose lapsed claim was taken over overwrite the new owner's response", async () => {
      const { user, key, tag, post } = caller();
      const body = { tag, hold: true };
      gate = { entered: deferred(), release: deferred() };
      const slow = post('/things', { body });
      await gate.entered.promise;
      // The holder lost the database long enough for its lease to lapse.
      await db('idempotency_keys').where({ scope: `user:${user}`, key }).update({ lease_expires_at: new Date(Date.now() - 1000) });
      const takeover = await post('/things', { body });
      gate.release.resolve();
      await slow;
      const retry = await post('/things', { body });
      assert.equal(takeover.status, 201);
      assert.equal(retry.headers.get('idempotent-replayed'), 'true');
      assert.equal(retry.body.id, takeover.body.id);
    });

    it('scopes anonymous keys by client address: two strangers with one key each get their own effect', async () => {
      const { key, tag, post } = caller();
      const first = await post('/things', { as: '', body: { tag }, headers: { 'x-test-address': '203.0.113.7' } });
      const second = await post('/things', { as: '', body: { tag }, headers: { 'x-test-address': '198.51.100.9' } });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.equal(second.headers.get('idempotent-replayed'), null);
      assert.equal(await effectsWithKey(key), 2);
    });

    it('replays an anonymous key for the same client address', async () => {
      const { key, tag, post } = caller();
      await post('/things', { as: '', body: { tag }, headers: { 'x-test-address': '203.0.113.8' } });
      const again = await post('/things', { as: '', body: { tag }, headers: { 'x-test-address': '203.0.113.8' } });
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(await effectsWithKey(key), 1);
    });

    it('runs every request and stores nothing when no key is sent', async () => {
      const { user, tag, post } = caller();
      const first = await post('/things', { key: null, body: { tag } });
      const second = await post('/things', { key: null, body: { tag } });
      assert.equal(first.status, 201);
      assert.equal(second.status, 201);
      assert.notEqual(second.body.id, first.body.id);
      assert.equal(await effectsWithTag(tag), 2);
      assert.equal((await db('idempotency_keys').where({ scope: `user:${user}` })).length, 0);
    });
  });
});

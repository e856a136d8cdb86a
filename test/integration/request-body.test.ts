import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import pino from 'pino';
import { MAX_BODY_DEPTH, createApp } from '../../src/api/app';
import { request } from '../helpers/http';
import { testConfig, testDb } from '../helpers/services';
import { createLedger } from '../../src/ledger/service';

/**
 * What the app does with bodies no route could want, before any route sees them. The
 * app runs on the real test database; Temporal is never reached, since every request
 * here is refused first.
 */

/** `{"email": …, "extra": [[[…]]]}` with the array nested `depth` levels. */
function nestedSignup(depth: number): string {
  return `{"email":"deep@example.com","password":"correct horse battery staple","name":"Deep","phone":"+14155550123","dateOfBirth":"1990-01-01","extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
}

describe('request bodies (app)', function () {
  let server: Server;
  let baseUrl: string;

  before(async function () {
    this.timeout(120_000);
    const db = await testDb();
    server = createApp(testConfig(), { db, temporal: undefined as never, logger: pino({ level: 'silent' }), ledger: createLedger(db), billers: undefined as never, notifier: undefined as never }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it(`refuses a body nested deeper than ${MAX_BODY_DEPTH} levels with 400 naming the body`, async () => {
    const res = await request(baseUrl, 'POST', '/v1/auth/login', { rawBody: nestedSignup(MAX_BODY_DEPTH) });
    assert.equal(res.status, 400);
    assert.equal(res.body.type, 'validation_error');
    assert.deepEqual(
      res.body.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['body', 'too_deep']],
    );
  });

  it('answers a 30,000-level body on an idempotent route with 400, not a 500', async () => {
    const res = await request(baseUrl, 'POST', '/v1/auth/signup', {
      rawBody: nestedSignup(30_000),
      headers: { 'idempotency-key': 'deep-body-1' },
    });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });

  it(`accepts a body nested exactly ${MAX_BODY_DEPTH} levels as far as depth goes`, async () => {
    const res = await request(baseUrl, 'POST', '/v1/auth/login', { rawBody: nestedSignup(MAX_BODY_DEPTH - 1) });
    assert.notEqual(res.body.errors?.[0]?.code, 'too_deep');
    assert.equal(res.status, 401);
  });
});

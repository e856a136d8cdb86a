import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { PLIVO_STATUS_WEBHOOK_PATH, withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import type { NotificationRow } from '../../src/providers/outbox';
import { createClient } from '../../src/temporal/client';
import { request, type HttpResponse } from '../helpers/http';
import { stack, testConfig, type Stack } from '../helpers/services';
import { appPorts, createPorts } from '../../src/worker/deps';

/**
 * Plivo's message status callback against the shared stack's PostgreSQL. The stack's own
 * API has no PLIVO_AUTH_TOKEN, so a second API on the same database and Temporal is
 * started with one, and with a PUBLIC_URL other than the address the test reaches it
 * on, as behind a proxy: the signature covers the public URL.
 */

const AUTH_TOKEN = 'plivo-e2e-auth-token-0123456789abcdef';
const PUBLIC_URL = 'https://finflow.example';
const SIGNED_URL = `${PUBLIC_URL}${PLIVO_STATUS_WEBHOOK_PATH}`;

/**
 * Plivo's V3 signature for a POST to a URL without a query string: HMAC-SHA256 with the
 * auth token over `<url>?<name><value>… sorted by name>.<nonce>`, base64.
 */
function signV3(params: Record<string, string>, nonce: string, { url = SIGNED_URL, authToken = AUTH_TOKEN } = {}): string {
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}${params[name]}`)
    .join('');
  return createHmac('sha256', authToken).update(`${url}?${sorted}.${nonce}`).digest('base64');
}

async function startSignedApp(s: Stack) {
  const config = withServices(testConfig({ PLIVO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_URL }), s.config.database.url!, s.config.temporal.address!);
  const temporal = createClient(config.temporal);
  const server = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
    },
  };
}

/** A message Plivo accepted: an outbox row with a Plivo message uuid, status `sent`. */
async function plivoMessage(s: Stack): Promise<{ id: string; uuid: string }> {
  const id = randomUUID();
  const uuid = randomUUID();
  await s.db('notifications').insert({
    id,
    dedupe_key: `webhook-test:${id}:sms`,
    channel: 'sms',
    recipient: '+447911123456',
    template: 'alert',
    body: 'finflow: 10.50 GBP received',
    status: 'sent',
    provider: 'plivo',
    provider_message_id: uuid,
    attempts: 1,
  });
  return { id, uuid };
}

const callback = (uuid: string, overrides: Record<string, string> = {}): Record<string, string> => ({
  MessageUUID: uuid,
  Status: 'delivered',
  From: '+14155550000',
  To: '+447911123456',
  TotalRate: '0.0035',
  Units: '1',
  ...overrides,
});

interface PostOptions {
  /** The params the signature is computed over; defaults to the posted ones. */
  signedParams?: Record<string, string>;
  signature?: string;
  unsigned?: boolean;
}

async function postCallback(baseUrl: string, params: Record<string, string>, options: PostOptions = {}): Promise<HttpResponse> {
  const nonce = randomBytes(10).toString('hex');
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (!options.unsigned) {
    headers['x-plivo-signature-v3'] = options.signature ?? signV3(options.signedParams ?? params, nonce);
    headers['x-plivo-signature-v3-nonce'] = nonce;
  }
  return request(baseUrl, 'POST', PLIVO_STATUS_WEBHOOK_PATH, { rawBody: new URLSearchParams(params).toString(), headers });
}

describe('Plivo message status webhook (e2e)', function () {
  let s: Stack;
  let app: Awaited<ReturnType<typeof startSignedApp>>;
  const row = async (id: string) => (await s.db('notifications').where({ id }).first()) as NotificationRow;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    app = await startSignedApp(s);
  });

  after(async () => {
    await app.close();
  });

  describe('a signed callback', () => {
    it('marks the message delivered', async () => {
      const { id, uuid } = await plivoMessage(s);
      const res = await postCallback(app.baseUrl, callback(uuid));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.deepEqual(res.body, { outcome: 'applied' });
      const stored = await row(id);
      assert.equal(stored.status, 'delivered');
      assert.ok(stored.delivered_at instanceof Date);
    });

    it('marks the message undelivered with Plivo\'s error code', async () => {
      const { id, uuid } = await plivoMessage(s);
      const res = await postCallback(app.baseUrl, callback(uuid, { Status: 'undelivered', ErrorCode: '30' }));
      assert.equal(res.status, 200);
      const stored = await row(id);
      assert.equal(stored.status, 'undelivered');
      assert.equal(stored.error_reason, 'undelivered: Plivo error code 30');
      assert.equal(stored.delivered_at, null);
    });

    it('marks the message failed with Plivo\'s error code', async () => {
      const { id, uuid } = await plivoMessage(s);
      await postCallback(app.baseUrl, callback(uuid, { Status: 'failed', ErrorCode: '420' }));
      const stored = await row(id);
      assert.deepEqual([stored.status, stored.error_reason], ['failed', 'failed: Plivo error code 420']);
    });

    it('does not let a late "sent" undo "delivered"', async () => {
      const { id, uuid } = await plivoMessage(s);
      await postCallback(app.baseUrl, callback(uuid));
      const res = await postCallback(app.baseUrl, callback(uuid, { Status: 'sent' }));
      assert.deepEqual([res.status, res.body], [200, { outcome: 'unchanged' }]);
      assert.equal((await row(id)).status, 'delivered');
    });

    it('answers 200 and changes nothing for a message the outbox does not know', async () => {
      const res = await postCallback(app.baseUrl, callback(randomUUID()));
      assert.deepEqual([res.status, res.body], [200, { outcome: 'unknown_message' }]);
    });

    it('finds a part of a long message by its ParentMessageUUID', async () => {
      const { id, uuid } = await plivoMessage(s);
      const res = await postCallback(app.baseUrl, callback(randomUUID(), { ParentMessageUUID: uuid, PartInfo: '2 of 2' }));
      assert.deepEqual(res.body, { outcome: 'applied' });
      assert.equal((await row(id)).status, 'delivered');
    });
  });

  describe('a callback that cannot prove it came from Plivo', () => {
    it('is rejected with 401 when unsigned, and changes nothing', async () => {
      const { id, uuid } = await plivoMessage(s);
      const res = await postCallback(app.baseUrl, callback(uuid), { unsigned: true });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
      assert.equal(res.body.type, 'unauthenticated');
      assert.equal((await row(id)).status, 'sent');
    });

    it('is rejected with 403 when its params were tampered with, and changes nothing', async () => {
      const { id, uuid } = await plivoMessage(s);
      const signed = callback(uuid);
      const res = await postCallback(app.baseUrl, { ...signed, Status: 'undelivered', ErrorCode: '30' }, { signedParams: signed });
      assert.equal(res.status, 403);
      assert.equal(res.body.type, 'forbidden');
      assert.equal((await row(id)).status, 'sent');
    });

    it('is rejected with 403 when signed with another auth token', async () => {
      const { uuid } = await plivoMessage(s);
      const params = callback(uuid);
      const nonce = 'a-nonce-0001';
      const res = await request(app.baseUrl, 'POST', PLIVO_STATUS_WEBHOOK_PATH, {
        rawBody: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-plivo-signature-v3': signV3(params, nonce, { authToken: 'not-the-account-token-0123456789' }),
          'x-plivo-signature-v3-nonce': nonce,
        },
      });
      assert.equal(res.status, 403);
    });

    it('is rejected with 403 when signed for the internal address instead of PUBLIC_URL', async () => {
      const { uuid } = await plivoMessage(s);
      const params = callback(uuid);
      const nonce = 'a-nonce-0002';
      const res = await request(app.baseUrl, 'POST', PLIVO_STATUS_WEBHOOK_PATH, {
        rawBody: new URLSearchParams(params).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-plivo-signature-v3': signV3(params, nonce, { url: `${app.baseUrl}${PLIVO_STATUS_WEBHOOK_PATH}` }),
          'x-plivo-signature-v3-nonce': nonce,
        },
      });
      assert.equal(res.status, 403);
    });

    it('is rejected with 403 by an API that has no PLIVO_AUTH_TOKEN', async () => {
      const { id, uuid } = await plivoMessage(s);
      const res = await postCallback(s.baseUrl, callback(uuid));
      assert.equal(res.status, 403);
      assert.equal((await row(id)).status, 'sent');
    });
  });

  describe('request shape', () => {
    it('answers 415 to a JSON body', async () => {
      const res = await request(app.baseUrl, 'POST', PLIVO_STATUS_WEBHOOK_PATH, { body: callback(randomUUID()) });
      assert.equal(res.status, 415);
      assert.equal(res.body.type, 'unsupported_media_type');
    });

    it('answers 400 naming the missing field', async () => {
      const params = callback(randomUUID());
      delete params.MessageUUID;
      const res = await postCallback(app.baseUrl, params);
      assert.equal(res.status, 400);
      assert.deepEqual(
        res.body.errors.map((e: { field: string }) => e.field),
        ['MessageUUID'],
      );
    });
  });
});

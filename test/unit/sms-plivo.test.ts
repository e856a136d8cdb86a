import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config';
import { createPlivoSms, isValidPlivoSignature, toSmsSendError } from '../../src/providers/sms/plivo';
import { SmsSendError } from '../../src/providers/sms/port';
import { json, smsFailure, startStandIn, type Reply } from '../helpers/stand-in';

/**
 * The real plivo SDK code path (client.messages.create → its axios wrapper → HTTP)
 * against a local server standing in for api.plivo.com, reached through the SDK's
 * `url` option. The signature tests run the SDK's own validateV3Signature.
 */

const AUTH_ID = 'MAFINFLOWTEST0000001';
const AUTH_TOKEN = 'plivo-test-auth-token-0123456789';
const SOURCE = '+14155550000';
const CALLBACK = 'https://finflow.example/webhooks/plivo/message-status';

const accepted = (uuid: string) => json(202, { api_id: 'c6d2f9a4-0000-4000-8000-000000000001', message: 'message(s) queued', message_uuid: [uuid] });

const message = { to: '+447911123456', body: 'finflow: 10.50 GBP received', reference: 'alert:t1:sms' };

const sendFailure = (reply: Reply, timeoutMs?: number) =>
  smsFailure(reply, (apiUrl) => createPlivoSms({ authId: AUTH_ID, authToken: AUTH_TOKEN, sourceNumber: SOURCE, apiUrl, timeoutMs }));

/**
 * Plivo's V3 signature, written out here rather than borrowed from the SDK: for a POST
 * to a URL without a query string, HMAC-SHA256 (key: auth token) over
 * `<url>?<name><value>… sorted by name>.<nonce>`, base64.
 */
function signV3(url: string, nonce: string, params: Record<string, string>, authToken = AUTH_TOKEN): string {
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}${params[name]}`)
    .join('');
  return createHmac('sha256', authToken).update(`${url}?${sorted}.${nonce}`).digest('base64');
}

describe('Plivo SMS provider (real SDK, local stand-in API)', () => {
  it('posts src, dst, text and the status callback to /v1/Account/<id>/Message/ with basic auth', async () => {
    const standIn = await startStandIn(accepted('3a0d3c3e-1111-4222-8333-444455556666'));
    try {
      const sms = createPlivoSms({ authId: AUTH_ID, authToken: AUTH_TOKEN, sourceNumber: SOURCE, apiUrl: standIn.baseUrl, statusCallbackUrl: CALLBACK });
      await sms.send(message);
      assert.equal(standIn.requests.length, 1);
      const [request] = standIn.requests;
      assert.equal(request!.method, 'POST');
      assert.equal(request!.url, `/v1/Account/${AUTH_ID}/Message/`);
      assert.equal(request!.headers.authorization, `Basic ${Buffer.from(`${AUTH_ID}:${AUTH_TOKEN}`).toString('base64')}`);
      assert.match(String(request!.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(request!.text), { src: SOURCE, dst: message.to, text: message.body, url: CALLBACK, method: 'POST' });
    } finally {
      await standIn.close();
    }
  });

  it('returns the message uuid Plivo answers with', async () => {
    const standIn = await startStandIn(accepted('3a0d3c3e-1111-4222-8333-444455556666'));
    try {
      const sms = createPlivoSms({ authId: AUTH_ID, authToken: AUTH_TOKEN, sourceNumber: SOURCE, apiUrl: standIn.baseUrl });
      assert.deepEqual(await sms.send(message), { providerMessageId: '3a0d3c3e-1111-4222-8333-444455556666' });
    } finally {
      await standIn.close();
    }
  });

  it('maps a 400 about the destination to invalid_number, not retryable', async () => {
    const err = await sendFailure(json(400, { api_id: 'x', error: 'invalid dst number' }));
    assert.deepEqual([err.reason, err.retryable], ['invalid_number', false]);
  });

  it('maps any other 400 to rejected, not retryable', async () => {
    const err = await sendFailure(json(400, { api_id: 'x', error: 'text exceeds the maximum length' }));
    assert.deepEqual([err.reason, err.retryable], ['rejected', false]);
  });

  it('maps a 401 to auth_failed, not retryable', async () => {
    const err = await sendFailure(json(401, { api_id: 'x', error: 'authentication failed' }));
    assert.deepEqual([err.reason, err.retryable], ['auth_failed', false]);
  });

  it('maps a 500 to provider_error, retryable', async () => {
    const err = await sendFailure(json(500, { api_id: 'x', error: 'internal error' }));
    assert.deepEqual([err.reason, err.retryable], ['provider_error', true]);
  });

  it('maps a 503 to provider_error, retryable', async () => {
    const err = await sendFailure(json(503, { api_id: 'x', error: 'unavailable' }));
    assert.deepEqual([err.reason, err.retryable], ['provider_error', true]);
  });

  it('maps a 429 to rate_limited, retryable', async () => {
    const err = await sendFailure(json(429, { api_id: 'x', error: 'too many requests' }));
    assert.deepEqual([err.reason, err.retryable], ['rate_limited', true]);
  });

  it('maps a timeout to timeout, retryable', async () => {
    // The stand-in never answers; the client gives up after 200 ms.
    const err = await sendFailure(() => undefined, 200);
    assert.deepEqual([err.reason, err.retryable], ['timeout', true]);
  });

  it('maps a refused connection to unreachable, retryable', async () => {
    const standIn = await startStandIn(accepted('unused'));
    await standIn.close();
    const sms = createPlivoSms({ authId: AUTH_ID, authToken: AUTH_TOKEN, sourceNumber: SOURCE, apiUrl: standIn.baseUrl });
    await assert.rejects(sms.send(message), (err: unknown) => {
      assert.ok(err instanceof SmsSendError);
      assert.deepEqual([err.reason, err.retryable], ['unreachable', true]);
      return true;
    });
  });

  it('leaves an SmsSendError as it is', () => {
    const original = new SmsSendError('blocked', false, 'x');
    assert.equal(toSmsSendError(original), original);
  });
});

describe('Plivo V3 signature check (SDK validateV3Signature)', () => {
  const url = 'https://finflow.example/webhooks/plivo/message-status';
  const params = { MessageUUID: '3a0d3c3e-1111-4222-8333-444455556666', Status: 'delivered', To: '+447911123456', ErrorCode: '000' };
  const nonce = '12345678901234567890';
  const check = (overrides: Partial<Parameters<typeof isValidPlivoSignature>[0]>) =>
    isValidPlivoSignature({ method: 'POST', url, nonce, signature: signV3(url, nonce, params), authToken: AUTH_TOKEN, params, ...overrides });

  it('accepts a correctly signed request', () => {
    assert.equal(check({}), true);
  });

  it('accepts a header carrying several signatures when one matches', () => {
    assert.equal(check({ signature: `bm90LXRoZS1zaWduYXR1cmU=,${signV3(url, nonce, params)}` }), true);
  });

  it('rejects a request whose params were tampered with', () => {
    assert.equal(check({ params: { ...params, Status: 'undelivered' } }), false);
  });

  it('rejects a signature made with another auth token', () => {
    assert.equal(check({ signature: signV3(url, nonce, params, 'some-other-token-0123456789') }), false);
  });

  it('rejects a request signed for another URL', () => {
    assert.equal(check({ url: 'https://elsewhere.example/webhooks/plivo/message-status' }), false);
  });

  it('rejects a replayed signature with another nonce', () => {
    assert.equal(check({ nonce: '09876543210987654321' }), false);
  });
});

describe('Plivo configuration', () => {
  const problemsOf = (env: NodeJS.ProcessEnv): string[] => {
    try {
      loadConfig({ NODE_ENV: 'test', ...env });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems;
      throw err;
    }
    return [];
  };

  it('lists every missing Plivo setting at once', () => {
    assert.deepEqual(problemsOf({ SMS_PROVIDER: 'plivo' }), [
      'PLIVO_AUTH_ID: required when SMS_PROVIDER=plivo',
      'PLIVO_AUTH_TOKEN: required when SMS_PROVIDER=plivo',
      'PLIVO_SOURCE_NUMBER: required when SMS_PROVIDER=plivo',
    ]);
  });

  it('rejects a PLIVO_API_URL that is not an absolute URL', () => {
    assert.deepEqual(problemsOf({ PLIVO_API_URL: 'localhost:8080' }), ['PLIVO_API_URL: must be an absolute http(s) URL']);
  });

  it('defaults the status callback to PUBLIC_URL + the webhook path', () => {
    const config = loadConfig({ NODE_ENV: 'test', PUBLIC_URL: 'https://finflow.example/' });
    assert.equal(config.sms.statusCallbackUrl, 'https://finflow.example/webhooks/plivo/message-status');
  });

  it('keeps the sandbox as the default provider', () => {
    assert.equal(loadConfig({ NODE_ENV: 'test' }).sms.provider, 'sandbox');
  });
});

import assert from 'node:assert/strict';
import twilio from 'twilio';
import { ConfigError, loadConfig } from '../../src/config';
import { type SmsSendError } from '../../src/providers/sms/port';
import { createTwilioSms, isValidTwilioSignature, toTwilioSendError } from '../../src/providers/sms/twilio';
import { json, smsFailure, startStandIn, type RecordedRequest, type Reply } from '../helpers/stand-in';

const form = (req: RecordedRequest | undefined) => new URLSearchParams(req?.text ?? '');

/**
 * The real twilio SDK code path (client.messages.create → its request client → HTTP)
 * against a local server standing in for api.twilio.com, reached by setting the SDK's
 * `api` domain base URL. Error bodies are Twilio's documented shape.
 */

const SID = 'AC00000000000000000000000000000001';
const TOKEN = 'twilio-test-auth-token-0123456789';
const FROM = '+14155550000';

const twilioError = (status: number, code: number, message: string) => json(status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });
const message = { to: '+447911123456', body: 'finflow: 10.50 GBP received', reference: 'alert:t1:sms' };

const failureOf = (reply: Reply, timeoutMs?: number) =>
  smsFailure(reply, (apiUrl) => createTwilioSms({ accountSid: SID, authToken: TOKEN, from: FROM, apiUrl, timeoutMs }));

describe('Twilio SMS adapter (real SDK against a local stand-in)', function () {
  this.timeout(20_000);

  it("sends with the account's credentials, sender, recipient and status callback, and returns Twilio's message sid", async () => {
    const server = await startStandIn(json(201, { sid: 'SM0123456789abcdef0123456789abcdef', status: 'queued', to: message.to, from: FROM, body: message.body }));
    try {
      const sms = createTwilioSms({ accountSid: SID, authToken: TOKEN, from: FROM, apiUrl: server.baseUrl, statusCallbackUrl: 'https://finflow.example/webhooks/twilio/status' });
      assert.deepEqual(await sms.send(message), { providerMessageId: 'SM0123456789abcdef0123456789abcdef' });
      const [sent] = server.requests;
      assert.equal(sent?.method, 'POST');
      assert.equal(sent?.url, `/2010-04-01/Accounts/${SID}/Messages.json`);
      assert.equal(sent?.headers.authorization, `Basic ${Buffer.from(`${SID}:${TOKEN}`).toString('base64')}`);
      assert.deepEqual(Object.fromEntries(form(sent)), { To: message.to, From: FROM, Body: message.body, StatusCallback: 'https://finflow.example/webhooks/twilio/status' });
    } finally {
      await server.close();
    }
  });

  it('sends through a Messaging Service when the sender is an MG sid', async () => {
    const server = await startStandIn(json(201, { sid: 'SM1', status: 'accepted' }));
    try {
      await createTwilioSms({ accountSid: SID, authToken: TOKEN, from: 'MG00000000000000000000000000000001', apiUrl: server.baseUrl }).send(message);
      assert.equal(form(server.requests[0]).get('MessagingServiceSid'), 'MG00000000000000000000000000000001');
      assert.equal(form(server.requests[0]).get('From'), null);
    } finally {
      await server.close();
    }
  });

  const cases: Array<[string, Reply, SmsSendError['reason'], boolean]> = [
    ['an invalid To number (21211)', twilioError(400, 21211, "The 'To' number +4479 is not a valid phone number."), 'invalid_number', false],
    ['a recipient who replied STOP (21610)', twilioError(400, 21610, 'Attempt to send to unsubscribed recipient'), 'blocked', false],
    ['wrong credentials (20003)', twilioError(401, 20003, 'Authenticate'), 'auth_failed', false],
    ['too many requests (20429)', twilioError(429, 20429, 'Too Many Requests'), 'rate_limited', true],
    ['a server error', twilioError(503, 20500, 'Service unavailable'), 'provider_error', true],
    ['any other refusal', twilioError(400, 21602, 'Message body is required.'), 'rejected', false],
  ];
  for (const [what, reply, reason, retryable] of cases) {
    it(`maps ${what} to ${reason} (${retryable ? 'retried' : 'not retried'})`, async () => {
      const err = await failureOf(reply);
      assert.equal(err.reason, reason);
      assert.equal(err.retryable, retryable);
    });
  }

  it('maps a call that gets no answer in time to a retryable timeout', async () => {
    const err = await failureOf(() => undefined, 300);
    assert.equal(err.reason, 'timeout');
    assert.equal(err.retryable, true);
  });

  it('maps a refused connection to a retryable unreachable', () => {
    const err = toTwilioSendError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }));
    assert.equal(err.reason, 'unreachable');
    assert.equal(err.retryable, true);
  });

  it("checks a webhook signature with the SDK's validator: right token passes, a changed param or URL fails", () => {
    const url = 'https://finflow.example/webhooks/twilio/inbound';
    const params = { From: '+447911123456', Body: 'BAL', MessageSid: 'SM9' };
    const signature = twilio.getExpectedTwilioSignature(TOKEN, url, params);
    assert.equal(isValidTwilioSignature({ authToken: TOKEN, signature, url, params }), true);
    assert.equal(isValidTwilioSignature({ authToken: TOKEN, signature, url, params: { ...params, Body: 'STMT 10' } }), false);
    assert.equal(isValidTwilioSignature({ authToken: TOKEN, signature, url: `${url}?x=1`, params }), false);
    assert.equal(isValidTwilioSignature({ authToken: 'another-token-0123456789', signature, url, params }), false);
  });

  it('is chosen by SMS_PROVIDER=twilio, which needs its account, token and sender', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'test', SMS_PROVIDER: 'twilio' }),
      (err: unknown) => err instanceof ConfigError && ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN', 'TWILIO_FROM'].every((name) => err.problems.some((p) => p.startsWith(`${name}: required when SMS_PROVIDER=twilio`))),
    );
    assert.equal(loadConfig({ NODE_ENV: 'test', SMS_PROVIDER: 'twilio', TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, TWILIO_FROM: FROM }).sms.provider, 'twilio');
  });
});

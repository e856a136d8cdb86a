import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { SMS_HELP_TEXT } from '../../src/activities/banking/sms-commands';
import { contactColumns, upsertContacts } from '../../src/campaigns/contacts';
import { createApp } from '../../src/api/app';
import { PLIVO_INBOUND_PATH, TWILIO_INBOUND_PATH } from '../../src/api/webhooks/inbound';
import { withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { dedupeKeys } from '../../src/temporal/names';
import { appPorts, createPorts } from '../../src/worker/deps';
import { client, request } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { stack, testConfig, type Stack } from '../helpers/services';
import { signUpVerified } from '../helpers/users';
import { eventually } from '../helpers/wait';

/**
 * Banking by SMS end to end: a second API with provider auth tokens and a PUBLIC_URL
 * (as behind a proxy) receives signed inbound webhooks; the shared stack's worker
 * answers them through the sandbox SMS provider, whose messages land in the outbox.
 */

const PLIVO_TOKEN = 'plivo-inbound-auth-token-0123456789';
const TWILIO_TOKEN = 'twilio-inbound-auth-token-0123456789';
const PUBLIC_URL = 'https://bank.example';

/** Plivo's V3 signature of a POST: HMAC-SHA256 over `<url>?<name><value>… sorted>.<nonce>`, base64. */
function plivoSignature(url: string, params: Record<string, string>, nonce: string, token = PLIVO_TOKEN): string {
  const sorted = Object.keys(params)
    .sort()
    .map((name) => `${name}${params[name]}`)
    .join('');
  return createHmac('sha256', token).update(`${url}?${sorted}.${nonce}`).digest('base64');
}

describe('SMS banking webhooks (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let baseUrl: string;
  let close: () => Promise<void>;

  before(async function () {
    this.timeout(600_000);
    s = await stack();
    const config = withServices(testConfig({ PLIVO_AUTH_TOKEN: PLIVO_TOKEN, TWILIO_AUTH_TOKEN: TWILIO_TOKEN, PUBLIC_URL }), s.config.database.url!, s.config.temporal.address!);
    const temporal = createClient(config.temporal);
    const server = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
    };
  });

  after(async () => close?.());

  const form = (params: Record<string, string>) => new URLSearchParams(params).toString();

  function fromPlivo(params: Record<string, string>, signature?: string) {
    const nonce = randomBytes(8).toString('hex');
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', 'x-plivo-signature-v3-nonce': nonce };
    headers['x-plivo-signature-v3'] = signature ?? plivoSignature(`${PUBLIC_URL}${PLIVO_INBOUND_PATH}`, params, nonce);
    return request(baseUrl, 'POST', PLIVO_INBOUND_PATH, { rawBody: form(params), headers });
  }

  function fromTwilio(params: Record<string, string>, signed = true) {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (signed) headers['x-twilio-signature'] = twilio.getExpectedTwilioSignature(TWILIO_TOKEN, `${PUBLIC_URL}${TWILIO_INBOUND_PATH}`, params);
    return request(baseUrl, 'POST', TWILIO_INBOUND_PATH, { rawBody: form(params), headers });
  }

  /** A customer with a verified phone and a wallet holding two deposits (12.34 and 56.78). */
  async function customer() {
    const phone = uniquePhone();
    const user = await signUpVerified(s.baseUrl, s.db, { phone }, ['phone']);
    const walletId = (await client(s.baseUrl)('GET', '/v1/accounts', { token: user.accessToken })).body.data[0].id as string;
    await deposit(s.db, walletId, 1_234n);
    await deposit(s.db, walletId, 5_678n);
    return { ...user, phone, walletId };
  }

  const plivoText = (from: string, text: string, uuid = randomUUID()) => ({ MessageUUID: uuid, From: from, To: '+14155550000', Text: text, Type: 'sms' });

  const inbound = (provider: string, id: string) => s.db('sms_inbound').where({ provider, provider_message_id: id });

  /** The reply to the stored inbound message, once the workflow has sent it. */
  async function replyTo(provider: string, id: string): Promise<{ body: string; recipient: string }> {
    const row = await eventually('the inbound message to be stored', async () => (await inbound(provider, id).first()) as { id: string } | undefined);
    return eventually('the reply', async () => s.db('notifications').where({ dedupe_key: dedupeKeys.smsReply(row.id) }).first());
  }

  it('refuses a wrongly signed Plivo message with 403 and stores nothing', async () => {
    const message = plivoText('+14155550199', 'BAL');
    const res = await fromPlivo(message, 'bm90IHRoZSBzaWduYXR1cmU=');
    assert.equal(res.status, 403);
    assert.equal((await inbound('plivo', message.MessageUUID)).length, 0);
  });

  it('refuses an unsigned Twilio message with 403 and stores nothing', async () => {
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    const res = await fromTwilio({ MessageSid: sid, From: '+14155550199', To: '+14155550000', Body: 'BAL' }, false);
    assert.equal(res.status, 403);
    assert.equal((await inbound('twilio', sid)).length, 0);
  });

  it('answers BAL with the balance of each account, to the registered phone', async () => {
    const ada = await customer();
    const message = plivoText(ada.phone, 'bal');
    assert.deepEqual((await fromPlivo(message)).body, { outcome: 'accepted' });
    const reply = await replyTo('plivo', message.MessageUUID);
    assert.equal(reply.recipient, ada.phone);
    assert.match(reply.body, /wallet ••\w{4}: Available balance: USD 69\.12/);
  });

  it('answers a Twilio message the same way', async () => {
    const ada = await customer();
    const sid = `SM${randomUUID().replace(/-/g, '')}`;
    assert.equal((await fromTwilio({ MessageSid: sid, From: ada.phone, To: '+14155550000', Body: 'BAL' })).status, 200);
    assert.match((await replyTo('twilio', sid)).body, /USD 69\.12/);
  });

  it('stores a retried webhook once and replies once', async () => {
    const ada = await customer();
    const message = plivoText(ada.phone, 'BAL');
    await fromPlivo(message);
    assert.deepEqual((await fromPlivo(message)).body, { outcome: 'duplicate' });
    const row = (await inbound('plivo', message.MessageUUID))[0];
    await replyTo('plivo', message.MessageUUID);
    assert.equal((await inbound('plivo', message.MessageUUID)).length, 1);
    assert.equal((await s.db('notifications').where('dedupe_key', 'like', `sms-reply:${row.id}%`)).length, 1);
  });

  it('gives an unknown number no account data: no reply at all', async () => {
    const stranger = uniquePhone();
    const message = plivoText(stranger, 'BAL');
    await fromPlivo(message);
    const row = await eventually('the message to be handled', async () => {
      const found = await inbound('plivo', message.MessageUUID).first();
      return found?.outcome ? found : undefined;
    });
    assert.equal(row.outcome, 'unknown_sender');
    assert.equal((await s.db('notifications').where({ recipient: stranger })).length, 0);
  });

  it('answers LAST n with the last n transactions, newest first', async () => {
    const ada = await customer();
    const message = plivoText(ada.phone, 'LAST 2');
    await fromPlivo(message);
    assert.match((await replyTo('plivo', message.MessageUUID)).body, /last 2: \d\d-\d\d \+USD 56\.78 test deposit; \d\d-\d\d \+USD 12\.34 test deposit\./);
  });

  it('answers HELP and unknown text with the help text', async () => {
    const ada = await customer();
    const help = plivoText(ada.phone, 'HELP');
    const nonsense = plivoText(ada.phone, 'what is my balance please');
    await fromPlivo(help);
    await fromPlivo(nonsense);
    assert.deepEqual([(await replyTo('plivo', help.MessageUUID)).body, (await replyTo('plivo', nonsense.MessageUUID)).body], [SMS_HELP_TEXT, SMS_HELP_TEXT]);
  });

  it('answers STMT n with a statement of the last n, sent as a link', async () => {
    const ada = await customer();
    const message = plivoText(ada.phone, 'STMT 2');
    await fromPlivo(message);
    const statement = await eventually('the statement to be ready', async () => {
      const row = await s.db('statements').where({ account_id: ada.walletId, source: 'sms' }).first();
      return row?.status === 'ready' ? row : undefined;
    });
    assert.equal(statement.line_count, 2);
    const link = await s.db('notifications').where({ template: 'statement_link', user_id: ada.user.id }).first();
    assert.match(link.body, /http\S+ \(link valid/);
  });

  it('turns alerts off on STOP and on again on START', async () => {
    const ada = await customer();
    const alertsOn = async () => (await s.db('users').where({ id: ada.user.id }).first('sms_alerts_enabled')).sms_alerts_enabled as boolean;
    const stop = plivoText(ada.phone, 'STOP');
    await fromPlivo(stop);
    await replyTo('plivo', stop.MessageUUID);
    assert.equal(await alertsOn(), false);
    const start = plivoText(ada.phone, 'start');
    await fromPlivo(start);
    await replyTo('plivo', start.MessageUUID);
    assert.equal(await alertsOn(), true);
  });

  it('opts a campaign contact out of SMS on STOP, from any number, and back in on START', async () => {
    const phone = uniquePhone();
    const columns = contactColumns({ phone, consent: { sms: { status: 'opt_in', source: 'import' } } }, 'test', new Date(Date.now() - 60_000));
    assert.ok(columns.ok);
    await upsertContacts(s.db, [columns.row]);
    const consent = async (): Promise<{ sms_consent: string; sms_consent_source: string } | undefined> => s.db('contacts').where({ phone }).first('sms_consent', 'sms_consent_source');
    const stop = { MessageSid: `SM${randomUUID().replace(/-/g, '')}`, From: phone, To: '+14155550000', Body: 'STOP' };
    assert.equal((await fromTwilio(stop)).status < 300, true);
    await eventually('the contact to be opted out', async () => ((await consent())?.sms_consent === 'opt_out' ? true : undefined));
    assert.match((await consent())?.sms_consent_source ?? '', /^keyword:twilio:/);
    await fromPlivo(plivoText(phone, 'START'));
    await eventually('the contact to be opted in again', async () => ((await consent())?.sms_consent === 'opt_in' ? true : undefined));
  });
});

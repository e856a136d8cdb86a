import assert from 'node:assert/strict';
import { appPorts, createPorts } from '../../src/worker/deps';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { client } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { stack, testConfig, type Stack } from '../helpers/services';
import { outboxCode, signUpAndLogin, verifyContact } from '../helpers/users';

/** Contact verification by one-time code, through the API, with codes read from the sandbox outbox. */
describe('contact verification (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
  });

  const customer = () => signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
  const start = (token: string, channel: string) => http('POST', '/v1/me/verifications', { token, body: { channel } });
  const confirm = (token: string, channel: string, code: string) => http('POST', '/v1/me/verifications/confirm', { token, body: { channel, code } });
  /** A code that is not the one sent (same length, other digits). */
  const wrong = (code: string) => code.replace(/\d/g, (d) => String((Number(d) + 1) % 10));

  it('shows a new customer as unverified on both channels', async () => {
    const ada = await customer();
    const me = await http('GET', '/v1/me', { token: ada.accessToken });
    assert.deepEqual([me.body.emailVerified, me.body.phoneVerified], [false, false]);
  });

  it('sends a code to each channel at signup', async () => {
    const ada = await customer();
    const rows = await s.db('notifications').where({ user_id: ada.user.id, template: 'verification_code' }).orderBy('channel');
    assert.deepEqual(
      rows.map((r) => [r.channel, r.recipient]),
      [
        ['email', ada.email],
        ['sms', ada.user.phone],
      ],
    );
  });

  it('answers 202 with the masked destination and the expiry', async () => {
    const ada = await customer();
    const res = await start(ada.accessToken, 'phone');
    assert.equal(res.status, 202);
    assert.equal(res.body.destination, `${ada.user.phone.slice(0, 2)}${'*'.repeat(ada.user.phone.length - 6)}${ada.user.phone.slice(-4)}`);
    const minutes = (Date.parse(res.body.expiresAt) - Date.now()) / 60_000;
    assert.ok(minutes > 9 && minutes <= 10, `expires in ${minutes} minutes`);
  });

  it('verifies the email with the code sent by email, shown in GET /v1/me', async () => {
    const ada = await customer();
    await verifyContact(s.baseUrl, s.db, ada.accessToken, 'email');
    const me = await http('GET', '/v1/me', { token: ada.accessToken });
    assert.deepEqual([me.body.emailVerified, me.body.phoneVerified], [true, false]);
  });

  it('stores only a hash of the code', async () => {
    const ada = await customer();
    await start(ada.accessToken, 'email');
    const code = await outboxCode(s.db, ada.accessToken, 'email');
    const row = await s.db('contact_verifications').where({ user_id: ada.user.id, channel: 'email' }).first();
    assert.ok(!JSON.stringify(row).includes(code));
    assert.ok(!Buffer.from(row.code_hash).toString('latin1').includes(code));
  });

  it('refuses a wrong code with 422 verification_failed naming code', async () => {
    const ada = await customer();
    await start(ada.accessToken, 'email');
    const code = await outboxCode(s.db, ada.accessToken, 'email');
    const res = await confirm(ada.accessToken, 'email', wrong(code));
    assert.equal(res.status, 422);
    assert.equal(res.body.type, 'verification_failed');
    assert.equal(res.body.errors[0].field, 'code');
  });

  it('refuses even the right code after 5 wrong ones', async () => {
    const ada = await customer();
    await start(ada.accessToken, 'email');
    const code = await outboxCode(s.db, ada.accessToken, 'email');
    for (let i = 0; i < 5; i++) await confirm(ada.accessToken, 'email', wrong(code));
    const res = await confirm(ada.accessToken, 'email', code);
    assert.equal(res.status, 422);
  });

  it('refuses a code past its 10 minutes', async () => {
    const ada = await customer();
    await start(ada.accessToken, 'email');
    const code = await outboxCode(s.db, ada.accessToken, 'email');
    await s.db('contact_verifications').where({ user_id: ada.user.id }).update({ expires_at: new Date(Date.now() - 1000) });
    const res = await confirm(ada.accessToken, 'email', code);
    assert.equal(res.status, 422);
  });

  it('lets a phone be verified by one customer only: the second gets 409', async () => {
    const phone = uniquePhone();
    const [ada, eve] = await Promise.all([signUpAndLogin(s.baseUrl, { phone }), signUpAndLogin(s.baseUrl, { phone })]);
    await verifyContact(s.baseUrl, s.db, ada.accessToken, 'phone');
    await start(eve.accessToken, 'phone');
    const res = await confirm(eve.accessToken, 'phone', await outboxCode(s.db, eve.accessToken, 'phone'));
    assert.equal(res.status, 409);
    const me = await http('GET', '/v1/me', { token: eve.accessToken });
    assert.equal(me.body.phoneVerified, false);
  });

  it('unverifies a phone when it changes', async () => {
    const ada = await customer();
    await verifyContact(s.baseUrl, s.db, ada.accessToken, 'phone');
    await s.db('users').where({ id: ada.user.id }).update({ phone: uniquePhone() });
    const me = await http('GET', '/v1/me', { token: ada.accessToken });
    assert.equal(me.body.phoneVerified, false);
  });

  it('answers 409 to a request for an already verified contact', async () => {
    const ada = await customer();
    await verifyContact(s.baseUrl, s.db, ada.accessToken, 'email');
    const res = await start(ada.accessToken, 'email');
    assert.equal(res.status, 409);
  });

  describe('abuse limits (an API with low limits)', () => {
    const perTarget = 2;
    const perAddress = 3;
    let limited: { api: ReturnType<typeof client>; close: () => Promise<void> };

    before(async () => {
      const env = {
        VERIFICATION_LIMIT_PER_TARGET: String(perTarget),
        VERIFICATION_LIMIT_PER_ADDRESS: String(perAddress),
        SIGNUP_LIMIT_PER_ADDRESS: String(perAddress),
        SIGNUP_LIMIT_PER_EMAIL: '1',
        LOOKUP_LIMIT_PER_ADDRESS: String(perAddress),
        LOOKUP_LIMIT_PER_TARGET: String(perTarget),
        // Each test speaks from its own documentation address, through a trusted local proxy.
        TRUST_PROXY: '127.0.0.1,::1',
      };
      const config = withServices(testConfig(env), s.config.database.url!, s.config.temporal.address!);
      const temporal = createClient(config.temporal);
      const server = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
      await once(server, 'listening');
      limited = {
        api: client(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
        close: async () => {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
          await temporal.connection.close();
        },
      };
    });
    after(async () => limited?.close());

    let octet = 0;
    const address = () => ({ 'x-forwarded-for': `198.51.100.${++octet}` });

    it(`answers 429 with Retry-After after ${perTarget} codes for one contact, from any address`, async () => {
      const ada = await customer();
      for (let i = 0; i < perTarget; i++) {
        const res = await limited.api('POST', '/v1/me/verifications', { token: ada.accessToken, body: { channel: 'email' }, headers: address() });
        assert.equal(res.status, 202);
      }
      const res = await limited.api('POST', '/v1/me/verifications', { token: ada.accessToken, body: { channel: 'email' }, headers: address() });
      assert.equal(res.status, 429);
      assert.equal(res.body.type, 'rate_limited');
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    });

    it(`answers 429 after ${perAddress} signups from one address`, async () => {
      const from = address();
      for (let i = 0; i < perAddress; i++) {
        const res = await limited.api('POST', '/v1/auth/signup', { body: signupBody(), headers: from });
        assert.equal(res.status, 201);
      }
      const res = await limited.api('POST', '/v1/auth/signup', { body: signupBody(), headers: from });
      assert.equal(res.status, 429);
    });

    it('answers 429 to a second signup attempt for one email, from another address', async () => {
      const body = signupBody();
      await limited.api('POST', '/v1/auth/signup', { body, headers: address() });
      const res = await limited.api('POST', '/v1/auth/signup', { body, headers: address() });
      assert.equal(res.status, 429);
    });

    it(`answers 429 after ${perAddress} biller reference lookups from one address`, async () => {
      const ada = await customer();
      const from = address();
      const lookup = (ref: string) =>
        limited.api('POST', '/v1/billers/brightgrid-power/validate', { token: ada.accessToken, body: { customerRef: ref }, headers: from });
      for (let i = 0; i < perAddress; i++) assert.notEqual((await lookup(`48201937${10 + i}`)).status, 429);
      assert.equal((await lookup('4820193799')).status, 429);
    });

    it(`answers 429 after ${perAddress} recipient lookups from one address`, async () => {
      const ada = await customer();
      const wallet = (await limited.api('GET', '/v1/accounts', { token: ada.accessToken })).body.data[0].id as string;
      await deposit(s.db, wallet, 1_000n);
      const from = address();
      const send = () =>
        limited.api('POST', '/v1/transfers', {
          token: ada.accessToken,
          body: { fromAccountId: wallet, to: { email: `${randomUUID()}@example.com` }, amount: '1' },
          headers: { ...from, 'idempotency-key': randomUUID() },
        });
      for (let i = 0; i < perAddress; i++) assert.equal((await send()).status, 422);
      assert.equal((await send()).status, 429);
    });
  });

  let signups = 0;
  function signupBody() {
    return {
      email: `limit-${++signups}-${randomUUID()}@example.com`,
      password: 'correct horse battery staple',
      name: 'Ada Lovelace',
      phone: uniquePhone(),
      dateOfBirth: '1990-12-10',
    };
  }
});

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { hashRefreshToken } from '../../src/api/auth/refresh-tokens';
import { signAccessToken } from '../../src/api/core/access-tokens';
import { createApp } from '../../src/api/app';
import { withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { workflowIds } from '../../src/temporal/names';
import { client, request } from '../helpers/http';
import { freePort, stack, testConfig, type Stack } from '../helpers/services';
import { logIn, signUp, signUpAndLogin, signupRequest, verifyContact } from '../helpers/users';
import { uniquePhone } from '../helpers/money';
import { appPorts, createPorts } from '../../src/worker/deps';
import { eventually } from '../helpers/wait';

/** A second API on the stack's database and Temporal, with its own settings and clock. */
async function startApp(s: Stack, env: NodeJS.ProcessEnv, options: { now?: () => Date; temporalAddress?: string } = {}) {
  const config = withServices(testConfig(env), s.config.database.url!, options.temporalAddress ?? s.config.temporal.address!);
  const temporal = createClient(config.temporal);
  const deps = { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })), ...(options.now ? { now: options.now } : {}) };
  const server = createApp(config, deps).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    api: client(baseUrl),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await temporal.connection.close();
    },
  };
}

/** A unique client address per test, sent through a proxy-trusting app. */
const uniqueAddress = () => `2001:db8::${randomBytes(6).toString('hex').match(/.{4}/g)!.join(':')}`;
const from = (address: string) => ({ 'x-forwarded-for': address });

const yearsFromNow = (years: number) => `${new Date().getUTCFullYear() + years}-06-15`;

describe('auth (e2e)', function () {
  let s: Stack;
  let api: ReturnType<typeof client>;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    api = client(s.baseUrl);
  });

  describe('POST /v1/auth/signup', () => {
    it('answers 201 with the user and Location: /v1/me', async () => {
      const body = signupRequest({ name: 'Grace Hopper', phone: '+447911123456', dateOfBirth: '1985-03-09' });
      const res = await api('POST', '/v1/auth/signup', { body });
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), '/v1/me');
      assert.deepEqual(
        { ...res.body, id: undefined, createdAt: undefined, referralCode: undefined },
        {
          id: undefined,
          email: body.email,
          name: 'Grace Hopper',
          phone: '+447911123456',
          dateOfBirth: '1985-03-09',
          role: 'customer',
          emailVerified: false,
          phoneVerified: false,
          timezone: null,
          createdAt: undefined,
          referralCode: undefined,
        },
      );
      assert.match(res.body.referralCode, /^[A-Z0-9]{6,12}$/);
    });

    it('lists exactly the presenter fields, never the password hash', async () => {
      const { user } = await signUp(s.baseUrl);
      assert.deepEqual(Object.keys(user).sort(), ['createdAt', 'dateOfBirth', 'email', 'emailVerified', 'id', 'name', 'phone', 'phoneVerified', 'referralCode', 'role', 'timezone']);
    });

    it('stores an argon2id hash, not the password', async () => {
      const { user, password } = await signUp(s.baseUrl);
      const row = await s.db('users').where({ id: user.id }).first('password_hash');
      assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      assert.ok(!row.password_hash.includes(password));
    });

    it('trims and lowercases the email', async () => {
      const local = randomUUID();
      const res = await api('POST', '/v1/auth/signup', { body: signupRequest({ email: `  ${local.toUpperCase()}@Example.COM ` }) });
      assert.equal(res.status, 201);
      assert.equal(res.body.email, `${local}@example.com`);
    });

    it('accepts a well-formed referral code', async () => {
      const res = await api('POST', '/v1/auth/signup', { body: signupRequest({ referralCode: 'ADA2024X' }) });
      assert.equal(res.status, 201);
    });

    it('starts an onboarding workflow that can be found by CustomerId', async () => {
      const { user } = await signUp(s.baseUrl);
      const found = await eventually('the onboarding workflow in the visibility store', async () => {
        for await (const execution of s.temporal.client.workflow.list({ query: `CustomerId="${user.id}"` })) return execution;
        return undefined;
      });
      assert.equal(found.workflowId, workflowIds.onboarding(user.id));
      assert.equal(found.type, 'onboarding');
    });

    it('onboarding completes and records the welcome message once the phone is verified', async () => {
      const { user, accessToken } = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
      await verifyContact(s.baseUrl, s.db, accessToken, 'phone');
      const result = await s.client.workflow.getHandle(workflowIds.onboarding(user.id)).result();
      const rows = await s.db('notifications').where({ dedupe_key: `onboarding:${user.id}:welcome` });
      assert.equal(rows.length, 1);
      assert.equal(rows[0].id, result.notificationId);
      assert.equal(rows[0].user_id, user.id);
    });

    it('answers a taken email with a generic 409', async () => {
      const { email } = await signUp(s.baseUrl);
      const res = await api('POST', '/v1/auth/signup', { body: signupRequest({ email, name: 'Someone Else' }) });
      assert.equal(res.status, 409);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'conflict');
      assert.equal(res.body.detail, 'An account cannot be created with these details.');
    });

    it('answers the same 409 body whatever the other details, for any casing of the email', async () => {
      const { email } = await signUp(s.baseUrl);
      const strip = ({ requestId: _r, ...rest }: Record<string, unknown>) => rest;
      const first = await api('POST', '/v1/auth/signup', { body: signupRequest({ email, name: 'Someone Else' }) });
      const second = await api('POST', '/v1/auth/signup', { body: signupRequest({ email: email.toUpperCase(), name: 'Third Person', phone: '+33612345678' }) });
      assert.equal(second.status, 409);
      assert.deepEqual(strip(second.body), strip(first.body));
    });

    it('replays the first response for a repeated Idempotency-Key', async () => {
      const body = signupRequest();
      const headers = { 'idempotency-key': randomUUID() };
      const first = await api('POST', '/v1/auth/signup', { body, headers });
      const second = await api('POST', '/v1/auth/signup', { body, headers });
      assert.equal(second.status, 201);
      assert.equal(second.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(second.body, first.body);
    });

    it('creates no user when onboarding cannot start (503, rolled back)', async function () {
      this.timeout(30_000);
      const down = await startApp(s, { DEPENDENCY_TIMEOUT_MS: '1000' }, { temporalAddress: `127.0.0.1:${await freePort()}` });
      try {
        const body = signupRequest();
        const res = await down.api('POST', '/v1/auth/signup', { body });
        assert.equal(res.status, 503);
        assert.equal(res.body.type, 'dependency_unavailable');
        assert.equal(await s.db('users').where({ email: body.email }).first('id'), undefined);
      } finally {
        await down.close();
      }
    });

    const invalid: Array<{ what: string; field: string; body: Record<string, unknown> }> = [
      { what: 'a malformed email', field: 'email', body: { email: 'not-an-email' } },
      { what: 'a phone number not in E.164', field: 'phone', body: { phone: '(415) 555-0123' } },
      { what: 'an E.164-shaped number that does not exist', field: 'phone', body: { phone: '+10000000000' } },
      { what: 'an under-18 date of birth', field: 'dateOfBirth', body: { dateOfBirth: yearsFromNow(-17) } },
      { what: 'a date of birth in the future', field: 'dateOfBirth', body: { dateOfBirth: yearsFromNow(1) } },
      { what: 'an impossible date', field: 'dateOfBirth', body: { dateOfBirth: '2001-02-30' } },
      { what: 'a date not in YYYY-MM-DD form', field: 'dateOfBirth', body: { dateOfBirth: '10/12/1990' } },
      { what: 'a password shorter than 12 characters', field: 'password', body: { password: 'Sh0rt!pass' } },
      { what: 'a password longer than 128 characters', field: 'password', body: { password: 'x1'.repeat(65) } },
      { what: 'a common password', field: 'password', body: { password: 'Password1234' } },
      { what: 'a password of one repeated character', field: 'password', body: { password: 'zzzzzzzzzzzzzzzz' } },
      { what: 'a password containing the email local part', field: 'password', body: { email: 'marguerite@example.com', password: 'xx-Marguerite-2024' } },
      { what: 'a missing name', field: 'name', body: { name: undefined } },
      { what: 'a blank name', field: 'name', body: { name: '   ' } },
      { what: 'a name over 200 characters', field: 'name', body: { name: 'a'.repeat(201) } },
      { what: 'a lowercase referral code', field: 'referralCode', body: { referralCode: 'abc123' } },
      { what: 'an email of the wrong type', field: 'email', body: { email: 42 } },
      { what: 'a password of the wrong type', field: 'password', body: { password: true } },
      { what: 'a date of birth of the wrong type', field: 'dateOfBirth', body: { dateOfBirth: 19901210 } },
      { what: 'a phone of the wrong type', field: 'phone', body: { phone: 14155550123 } },
    ];
    for (const { what, field, body } of invalid) {
      it(`refuses ${what} with a 400 naming ${field}`, async () => {
        const res = await api('POST', '/v1/auth/signup', { body: { ...signupRequest(), ...body } });
        assert.equal(res.status, 400);
        assert.equal(res.body.type, 'validation_error');
        assert.deepEqual(
          res.body.errors.map((e: { field: string; in: string }) => `${e.in}:${e.field}`),
          res.body.errors.map(() => `body:${field}`),
        );
        assert.ok(res.body.errors.length > 0);
      });
    }

    it('refuses a body that is not a JSON object', async () => {
      const res = await api('POST', '/v1/auth/signup', { body: ['not', 'an', 'object'] });
      assert.equal(res.status, 400);
    });
  });

  describe('POST /v1/auth/login', () => {
    it('answers a token pair for the right password', async () => {
      const { email, password } = await signUp(s.baseUrl);
      const res = await api('POST', '/v1/auth/login', { body: { email, password } });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.body).sort(), ['accessToken', 'expiresIn', 'refreshToken', 'tokenType']);
      assert.equal(res.body.tokenType, 'Bearer');
      assert.equal(res.body.expiresIn, s.config.auth.accessTokenTtlSeconds);
      assert.match(res.body.refreshToken, /^[A-Za-z0-9_-]{43}$/);
    });

    it('accepts the email in any case', async () => {
      const { email, password } = await signUp(s.baseUrl);
      const res = await api('POST', '/v1/auth/login', { body: { email: ` ${email.toUpperCase()}`, password } });
      assert.equal(res.status, 200);
    });

    it('answers a wrong password and an unknown email with the same 401', async () => {
      const { email } = await signUp(s.baseUrl);
      const wrong = await api('POST', '/v1/auth/login', { body: { email, password: 'not the password at all' } });
      const unknown = await api('POST', '/v1/auth/login', { body: { email: `${randomUUID()}@example.com`, password: 'not the password at all' } });
      assert.equal(wrong.status, 401);
      assert.equal(unknown.status, 401);
      assert.equal(wrong.body.detail, 'Invalid email or password.');
      assert.deepEqual({ ...unknown.body, requestId: undefined }, { ...wrong.body, requestId: undefined });
    });

    it('refuses a missing password with a 400 naming it', async () => {
      const res = await api('POST', '/v1/auth/login', { body: { email: 'someone@example.com' } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['password']);
    });
  });

  describe('GET /v1/me', () => {
    it('answers the signed-in user', async () => {
      const { user, accessToken } = await signUpAndLogin(s.baseUrl);
      const res = await api('GET', '/v1/me', { token: accessToken });
      assert.equal(res.status, 200);
      // A new customer has no invoice mailbox connected yet (docs/invoices.md).
      assert.deepEqual(res.body, { ...user, mailboxConnected: false });
    });

    const claims = { role: 'customer' };
    const forged: Array<{ what: string; token: (userId: string) => string | undefined }> = [
      { what: 'no token', token: () => undefined },
      { what: 'a garbage token', token: () => 'garbage.garbage.garbage' },
      {
        what: 'a token signed with another secret',
        token: (sub) =>
          jwt.sign(claims, 'another-secret-that-is-long-enough-to-sign', {
            header: { alg: 'HS256', typ: 'at+jwt' },
            subject: sub,
            issuer: s.config.auth.issuer,
            audience: s.config.auth.audience,
            expiresIn: 300,
          }),
      },
      {
        what: 'an unsigned (alg: none) token',
        token: (sub) => {
          const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
          const now = Math.floor(Date.now() / 1000);
          return `${part({ alg: 'none', typ: 'at+jwt' })}.${part({ sub, role: 'customer', iss: s.config.auth.issuer, aud: s.config.auth.audience, iat: now, exp: now + 300 })}.`;
        },
      },
      {
        what: 'a token of the wrong typ',
        token: (sub) =>
          jwt.sign(claims, s.config.auth.jwtSecret, {
            header: { alg: 'HS256', typ: 'JWT' },
            subject: sub,
            issuer: s.config.auth.issuer,
            audience: s.config.auth.audience,
            expiresIn: 300,
          }),
      },
      {
        what: 'an expired token',
        token: (sub) => signAccessToken(s.config.auth, { sub, role: 'customer' }, new Date(Date.now() - 2 * 3600_000)),
      },
    ];
    for (const { what, token } of forged) {
      it(`answers 401 to ${what}`, async () => {
        const { user } = await signUp(s.baseUrl);
        const res = await api('GET', '/v1/me', { token: token(user.id) });
        assert.equal(res.status, 401);
        assert.equal(res.body.type, 'unauthenticated');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer');
      });
    }

    it('answers 401 to a refresh token used as a bearer token', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      const res = await api('GET', '/v1/me', { token: refreshToken });
      assert.equal(res.status, 401);
    });
  });

  describe('POST /v1/auth/refresh', () => {
    it('answers a new token pair whose access token works', async () => {
      const { user, refreshToken } = await signUpAndLogin(s.baseUrl);
      const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      assert.equal(res.status, 200);
      assert.notEqual(res.body.refreshToken, refreshToken);
      const me = await api('GET', '/v1/me', { token: res.body.accessToken });
      assert.equal(me.body.id, user.id);
    });

    it('spends the presented token', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      const again = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      assert.equal(again.status, 401);
    });

    it('revokes the whole family when a spent token is reused', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      const rotated = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      const legitimate = await api('POST', '/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
      assert.equal(legitimate.status, 401);
    });

    it('leaves other sessions of the same user alone when one family is revoked', async () => {
      const { email, password, refreshToken } = await signUpAndLogin(s.baseUrl);
      const other = await logIn(s.baseUrl, email, password);
      await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken: other.refreshToken } });
      assert.equal(res.status, 200);
    });

    it('lets exactly one of two concurrent refreshes of one token succeed', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      const results = await Promise.all([
        api('POST', '/v1/auth/refresh', { body: { refreshToken } }),
        api('POST', '/v1/auth/refresh', { body: { refreshToken } }),
      ]);
      assert.deepEqual(results.map((r) => r.status).sort(), [200, 401]);
    });

    it('refuses an expired token', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      await s.db('refresh_tokens').where({ token_hash: hashRefreshToken(refreshToken) }).update({ expires_at: new Date(Date.now() - 1000) });
      const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      assert.equal(res.status, 401);
    });

    it('refuses an unknown token', async () => {
      const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken: randomBytes(32).toString('base64url') } });
      assert.equal(res.status, 401);
      assert.equal(res.body.type, 'unauthenticated');
    });
  });

  describe('POST /v1/auth/logout', () => {
    it('answers 204 and ends the session', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      const res = await api('POST', '/v1/auth/logout', { body: { refreshToken } });
      assert.equal(res.status, 204);
      const after = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      assert.equal(after.status, 401);
    });

    it('also ends the session when given an already rotated token of it', async () => {
      const { refreshToken } = await signUpAndLogin(s.baseUrl);
      const rotated = await api('POST', '/v1/auth/refresh', { body: { refreshToken } });
      await api('POST', '/v1/auth/logout', { body: { refreshToken } });
      const res = await api('POST', '/v1/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
      assert.equal(res.status, 401);
    });

    it('answers 204 to an unknown token', async () => {
      const res = await api('POST', '/v1/auth/logout', { body: { refreshToken: randomBytes(32).toString('base64url') } });
      assert.equal(res.status, 204);
    });
  });

  describe('login throttling', () => {
    const maxPerAccount = 5;
    const maxPerAddress = 3;
    const windowSeconds = 900;
    let clockMs = 0;
    let throttled: Awaited<ReturnType<typeof startApp>>;

    before(async () => {
      throttled = await startApp(
        s,
        {
          TRUST_PROXY: '127.0.0.1',
          LOGIN_MAX_FAILURES_PER_ACCOUNT: String(maxPerAccount),
          LOGIN_MAX_FAILURES_PER_ADDRESS: String(maxPerAddress),
          LOGIN_THROTTLE_WINDOW_SECONDS: String(windowSeconds),
        },
        { now: () => new Date(Date.now() + clockMs) },
      );
    });
    beforeEach(() => {
      clockMs = 0;
    });
    after(async () => {
      await throttled?.close();
    });

    /** Fails once per fresh address, so only the account's counter grows. */
    async function failAccount(email: string, times: number) {
      for (let i = 0; i < times; i++) {
        const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password: 'wrong password here' }, headers: from(uniqueAddress()) });
        assert.equal(res.status, 401);
      }
    }

    it(`answers 429 with Retry-After after ${maxPerAccount} failures for an account, even to the right password`, async () => {
      const { email, password } = await signUp(s.baseUrl);
      await failAccount(email, maxPerAccount);
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      assert.equal(res.status, 429);
      assert.equal(res.body.type, 'rate_limited');
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= windowSeconds, `Retry-After ${retryAfter}`);
    });

    it('answers a locked account the same to the right password as to a wrong one', async () => {
      const { email, password } = await signUp(s.baseUrl);
      await failAccount(email, maxPerAccount);
      const right = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      const wrong = await throttled.api('POST', '/v1/auth/login', { body: { email, password: 'wrong password here' }, headers: from(uniqueAddress()) });
      assert.equal(right.status, wrong.status);
      assert.deepEqual({ ...right.body, requestId: undefined }, { ...wrong.body, requestId: undefined });
    });

    it('counts failures against the address the trusted proxy saw, not addresses the client prepended', async () => {
      const { email, password } = await signUp(s.baseUrl);
      const real = uniqueAddress();
      for (let i = 0; i < maxPerAddress; i++) {
        await throttled.api('POST', '/v1/auth/login', {
          body: { email: `${randomUUID()}@example.com`, password: 'wrong password here' },
          headers: { 'x-forwarded-for': `${uniqueAddress()}, ${real}` },
        });
      }
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': `${uniqueAddress()}, ${real}` } });
      assert.equal(res.status, 429);
    });

    it('lets the account in again once the window has passed', async () => {
      const { email, password } = await signUp(s.baseUrl);
      await failAccount(email, maxPerAccount);
      clockMs = (windowSeconds + 1) * 1000;
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      assert.equal(res.status, 200);
    });

    it("resets the account's failures on a successful login", async () => {
      const { email, password } = await signUp(s.baseUrl);
      await failAccount(email, maxPerAccount - 1);
      await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      await failAccount(email, maxPerAccount - 1);
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      assert.equal(res.status, 200);
    });

    it(`answers 429 after ${maxPerAddress} failures from one address, whichever accounts they named`, async () => {
      const { email, password } = await signUp(s.baseUrl);
      const address = uniqueAddress();
      for (let i = 0; i < maxPerAddress; i++) {
        const res = await throttled.api('POST', '/v1/auth/login', {
          body: { email: `${randomUUID()}@example.com`, password: 'wrong password here' },
          headers: from(address),
        });
        assert.equal(res.status, 401);
      }
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(address) });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    });

    it('does not hold one address back for failures from another', async () => {
      const { email, password } = await signUp(s.baseUrl);
      const address = uniqueAddress();
      for (let i = 0; i < maxPerAddress; i++) {
        await throttled.api('POST', '/v1/auth/login', {
          body: { email: `${randomUUID()}@example.com`, password: 'wrong password here' },
          headers: from(address),
        });
      }
      const res = await throttled.api('POST', '/v1/auth/login', { body: { email, password }, headers: from(uniqueAddress()) });
      assert.equal(res.status, 200);
    });
  });

  describe('X-Forwarded-For without TRUST_PROXY', () => {
    let direct: Awaited<ReturnType<typeof startApp>>;
    before(async () => {
      direct = await startApp(s, { LOGIN_MAX_FAILURES_PER_ADDRESS: '2' });
    });
    after(async () => {
      await direct?.close();
      // The failures counted against 127.0.0.1, which every other test speaks from too.
      await s.db('login_throttle').where({ key: 'address:127.0.0.1' }).delete();
    });

    it('ignores the header: failures from one socket count together whatever it claims', async () => {
      for (let i = 0; i < 2; i++) {
        await direct.api('POST', '/v1/auth/login', { body: { email: `${randomUUID()}@example.com`, password: 'wrong password here' }, headers: from(uniqueAddress()) });
      }
      const res = await direct.api('POST', '/v1/auth/login', { body: { email: `${randomUUID()}@example.com`, password: 'x' }, headers: from(uniqueAddress()) });
      assert.equal(res.status, 429);
    });
  });

  describe('OpenAPI document', () => {
    it('describes the auth routes and their named schemas', async () => {
      const res = await request(s.baseUrl, 'GET', '/openapi.json');
      assert.equal(res.status, 200);
      for (const path of ['/v1/auth/signup', '/v1/auth/login', '/v1/auth/refresh', '/v1/auth/logout', '/v1/me']) {
        assert.ok(res.body.paths[path], `missing ${path}`);
      }
      for (const name of ['User', 'TokenPair', 'SignupRequest', 'LoginRequest', 'RefreshTokenRequest']) {
        assert.ok(res.body.components.schemas[name], `missing component ${name}`);
      }
    });
  });
});

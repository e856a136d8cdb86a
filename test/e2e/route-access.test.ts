import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { createApp, registeredRoutes } from '../../src/api/app';
import { createLogger } from '../../src/logger';
import { appPorts, createPorts } from '../../src/worker/deps';
import { request, type HttpResponse, type RequestOptions } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';

/**
 * Who may call each route, written by hand: the expectations come from this table,
 * never from the OpenAPI document or the code's own access settings, so a route whose
 * guard is changed by mistake fails here. The last test checks the table against the
 * routes the app registers, so a new route without an entry fails too.
 *
 * Kinds of caller: `anonymous` (no credentials), `customer` and `operator` (a user's
 * access token of that role), `service` (the bank-side service token). A route is
 * open to `anyone`, to `users` (any signed-in user), to one role, to the `service`
 * token, to `service-or-operator`, or to a `webhook` signature only (no bearer token
 * of any kind opens it). A `signed-inbound` webhook (inbound SMS) refuses any caller
 * without a valid provider signature with 403, whatever else it brings.
 */

type Who = 'anyone' | 'users' | 'customer' | 'operator' | 'service' | 'service-or-operator' | 'webhook' | 'signed-inbound';
type Caller = 'anonymous' | 'customer' | 'operator' | 'service';

const ROUTES: Array<[method: string, path: string, who: Who]> = [
  ['GET', '/openapi.json', 'anyone'],
  ['GET', '/docs', 'anyone'],
  ['GET', '/docs/init.js', 'anyone'],
  ['GET', '/docs/:asset', 'anyone'],
  ['GET', '/health', 'anyone'],
  ['GET', '/health/ready', 'anyone'],
  ['POST', '/v1/auth/signup', 'anyone'],
  ['POST', '/v1/auth/login', 'anyone'],
  ['POST', '/v1/auth/refresh', 'anyone'],
  ['POST', '/v1/auth/logout', 'anyone'],
  ['GET', '/v1/me', 'users'],
  ['POST', '/v1/me/verifications', 'users'],
  ['POST', '/v1/me/verifications/confirm', 'users'],
  ['GET', '/v1/me/dashboard', 'customer'],
  ['GET', '/v1/me/preferences', 'customer'],
  ['PUT', '/v1/me/preferences', 'customer'],
  ['GET', '/v1/accounts', 'customer'],
  ['GET', '/v1/accounts/:id', 'customer'],
  ['GET', '/v1/accounts/:id/transactions', 'customer'],
  ['POST', '/v1/accounts/:id/statements', 'customer'],
  ['GET', '/v1/statements', 'customer'],
  ['GET', '/v1/statements/:id', 'customer'],
  ['POST', '/v1/wallet/fund', 'customer'],
  ['GET', '/v1/wallet/fundings/:id', 'customer'],
  ['POST', '/v1/transfers', 'customer'],
  ['GET', '/v1/transfers/:id', 'customer'],
  ['GET', '/v1/billers', 'customer'],
  ['GET', '/v1/billers/:id', 'customer'],
  ['POST', '/v1/billers/:id/validate', 'customer'],
  ['POST', '/v1/payments/quote', 'customer'],
  ['POST', '/v1/payments', 'customer'],
  ['GET', '/v1/payments', 'customer'],
  ['GET', '/v1/payments/:id', 'customer'],
  ['POST', '/v1/payments/:id/cancel', 'customer'],
  ['POST', '/v1/accounts/:cardId/payments', 'customer'],
  ['POST', '/v1/recurring-payments', 'customer'],
  ['GET', '/v1/recurring-payments', 'customer'],
  ['GET', '/v1/recurring-payments/:id', 'customer'],
  ['DELETE', '/v1/recurring-payments/:id', 'customer'],
  ['POST', '/v1/recurring-payments/:id/pause', 'customer'],
  ['POST', '/v1/recurring-payments/:id/resume', 'customer'],
  ['GET', '/v1/operator/notifications', 'operator'],
  ['GET', '/codec/login', 'anyone'],
  ['POST', '/codec/login', 'anyone'],
  ['POST', '/codec/decode', 'operator'],
  ['POST', '/codec/encode', 'operator'],
  ['GET', '/internal/v1/ledger/trial-balance', 'service-or-operator'],
  ['GET', '/internal/v1/audit', 'service-or-operator'],
  ['POST', '/internal/v1/payments/:id/resolve', 'service'],
  ['GET', '/internal/v1/accounts/:id/statement', 'service-or-operator'],
  ['POST', '/internal/v1/users/:userId/accounts', 'service'],
  ['POST', '/internal/v1/accounts/:accountId/postings', 'service'],
  ['GET', '/internal/v1/postings/:id', 'service'],
  ['POST', '/webhooks/plivo/message-status', 'webhook'],
  // Issue 13: wallet customers' and operators' gaps.
  ['POST', '/v1/payments/:id/retry', 'customer'],
  ['POST', '/v1/cashback/redeem', 'customer'],
  ['GET', '/internal/v1/payments', 'service-or-operator'],
  ['GET', '/internal/v1/users/:userId', 'service-or-operator'],
  ['PATCH', '/v1/me', 'users'],
  ['POST', '/v1/me/password', 'users'],
  ['POST', '/v1/auth/password-reset', 'anyone'],
  ['POST', '/v1/auth/password-reset/confirm', 'anyone'],
  ['GET', '/metrics', 'anyone'],
  ['POST', '/webhooks/plivo/inbound', 'signed-inbound'],
  ['POST', '/webhooks/twilio/inbound', 'signed-inbound'],
  // cards
  ['GET', '/v1/cards/:cardId/status', 'anyone'],
  ['GET', '/internal/v1/cards/:cardId/status', 'service-or-operator'],
  ['POST', '/internal/v1/card-files', 'service-or-operator'],
  ['GET', '/internal/v1/card-files/:id', 'service-or-operator'],
  ['GET', '/internal/v1/card-files/:id/rejects', 'service-or-operator'],
  // campaigns
  ['POST', '/v1/contacts', 'operator'],
  ['GET', '/v1/contacts', 'operator'],
  ['GET', '/v1/contacts/:id', 'operator'],
  ['DELETE', '/v1/contacts/:id', 'operator'],
  ['POST', '/v1/contacts/import', 'operator'],
  ['GET', '/v1/contacts/imports/:id', 'operator'],
  ['POST', '/v1/templates', 'operator'],
  ['GET', '/v1/templates', 'operator'],
  ['GET', '/v1/templates/:id', 'operator'],
  ['GET', '/v1/templates/:id/preview', 'operator'],
  ['POST', '/v1/segments', 'operator'],
  ['GET', '/v1/segments', 'operator'],
  ['GET', '/v1/segments/:id', 'operator'],
  ['GET', '/v1/segments/:id/preview', 'operator'],
  ['POST', '/v1/campaigns', 'operator'],
  ['GET', '/v1/campaigns', 'operator'],
  ['GET', '/v1/campaigns/:id', 'operator'],
  ['GET', '/v1/campaigns/:id/messages', 'operator'],
  ['POST', '/v1/campaigns/:id/launch', 'operator'],
  ['POST', '/v1/campaigns/:id/pause', 'operator'],
  ['POST', '/v1/campaigns/:id/resume', 'operator'],
  ['POST', '/v1/campaigns/:id/cancel', 'operator'],
  ['POST', '/webhooks/twilio/status', 'webhook'],
  // Invoices (docs/invoices.md).
  ['DELETE', '/v1/me', 'customer'],
  ['PUT', '/v1/me/mailbox', 'customer'],
  ['GET', '/v1/me/mailbox', 'customer'],
  ['DELETE', '/v1/me/mailbox', 'customer'],
  ['GET', '/v1/invoices', 'customer'],
  ['POST', '/v1/invoices/ingest', 'customer'],
  ['GET', '/v1/invoices/ingestions/:id', 'customer'],
  ['GET', '/v1/invoices/:id', 'customer'],
  ['POST', '/v1/invoices/:id/pay', 'customer'],
  ['POST', '/internal/v1/invoices/reparse', 'service-or-operator'],
];

/** A well-formed but unsigned form per webhook whose fields differ from Plivo's status callback. */
const WEBHOOK_FORMS: Record<string, string> = {
  '/webhooks/twilio/status': 'MessageSid=SMaccesstest&MessageStatus=delivered',
};

/** Who gets in; everyone else is refused. */
const ADMITS: Record<Who, Caller[]> = {
  anyone: ['anonymous', 'customer', 'operator', 'service'],
  users: ['customer', 'operator'],
  customer: ['customer'],
  operator: ['operator'],
  service: ['service'],
  'service-or-operator': ['service', 'operator'],
  webhook: [],
  'signed-inbound': [],
};

/**
 * How a refused caller is answered: 401 when it brings no credential the route takes
 * (none, the service token on a user route, a user token on a service route, anything
 * on a webhook), 403 when it is a signed-in user of the wrong role.
 */
function refusal(who: Who, caller: Caller): 401 | 403 {
  if (who === 'signed-inbound') return 403;
  if (caller === 'anonymous' || who === 'webhook') return 401;
  if (caller === 'service') return 401;
  if (who === 'service') return 401;
  return 403;
}

const CALLERS: Caller[] = ['anonymous', 'customer', 'operator', 'service'];
const label = ([method, path]: [string, string, Who]) => `${method} ${path}`;

describe('route access from a hand-written table (e2e)', function () {
  this.timeout(120_000);
  let s: Stack;
  let customer: SignedIn;
  let operator: SignedIn;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    [customer, operator] = await Promise.all([signUpAndLogin(s.baseUrl), createOperator(s.baseUrl, s.db)]);
  });

  function tokenOf(caller: Caller): string | undefined {
    if (caller === 'customer') return customer.accessToken;
    if (caller === 'operator') return operator.accessToken;
    if (caller === 'service') return s.config.auth.serviceToken;
    return undefined;
  }

  /**
   * One request to the route: path parameters are fresh UUIDs (`:asset` a real asset),
   * JSON bodies are `{}` (so an admitted caller gets a validation error, never a side
   * effect), and the webhook gets a well-formed but unsigned form.
   */
  function call([method, path, who]: [string, string, Who], headers: Record<string, string>): Promise<HttpResponse> {
    const concrete = path.replace(/:asset/, 'swagger-ui.css').replace(/:[A-Za-z]+/g, () => randomUUID());
    const idempotency: Record<string, string> = method === 'POST' || method === 'PUT' || method === 'DELETE' ? { 'idempotency-key': randomUUID() } : {};
    const body: RequestOptions =
      who === 'signed-inbound'
        ? { rawBody: 'MessageUUID=access-test&Status=delivered&MessageSid=access-test&From=%2B14155550100&Text=BAL&Body=BAL', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } }
        : who === 'webhook'
          ? { rawBody: WEBHOOK_FORMS[path] ?? 'MessageUUID=access-test&Status=delivered', headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' } }
        : method === 'GET' || method === 'DELETE'
          ? { headers: { ...headers, ...idempotency } }
          : { body: {}, headers: { ...headers, ...idempotency } };
    return request(s.baseUrl, method, concrete, body);
  }

  const as = (caller: Caller): Record<string, string> => {
    const token = tokenOf(caller);
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  /** Runs `probe` on every route, collecting "<route> <what>: <status>" for each wrong answer. */
  async function sweep(probe: (route: [string, string, Who]) => Promise<string[]>): Promise<string[]> {
    const failures: string[] = [];
    for (const route of ROUTES) failures.push(...(await probe(route)).map((issue) => `${label(route)} ${issue}`));
    return failures;
  }

  it('admits each caller the table admits', async () => {
    const failures = await sweep(async (route) => {
      const issues: string[] = [];
      for (const caller of ADMITS[route[2]]) {
        const res = await call(route, as(caller));
        if (res.status === 401 || res.status === 403 || res.status >= 500) issues.push(`as ${caller}: ${res.status} ${JSON.stringify(res.body?.type)}`);
      }
      return issues;
    });
    assert.deepEqual(failures, []);
  });

  it('refuses every other caller with 401 or 403 as the table says', async () => {
    const failures = await sweep(async (route) => {
      const issues: string[] = [];
      for (const caller of CALLERS.filter((c) => !ADMITS[route[2]].includes(c))) {
        const res = await call(route, as(caller));
        const expected = refusal(route[2], caller);
        if (res.status !== expected) issues.push(`as ${caller}: expected ${expected}, got ${res.status}`);
      }
      return issues;
    });
    assert.deepEqual(failures, []);
  });

  it('answers a refused anonymous caller with WWW-Authenticate: Bearer on bearer routes', async () => {
    const failures = await sweep(async (route) => {
      if (ADMITS[route[2]].includes('anonymous') || route[2] === 'webhook' || route[2] === 'signed-inbound') return [];
      const res = await call(route, {});
      return /^Bearer\b/.test(res.headers.get('www-authenticate') ?? '') ? [] : [`WWW-Authenticate ${res.headers.get('www-authenticate')}`];
    });
    assert.deepEqual(failures, []);
  });

  for (const [what, authorization] of [
    ['a garbage bearer token', 'Bearer garbage'],
    ['a non-bearer scheme', `Basic ${Buffer.from('user:password').toString('base64')}`],
  ] as const) {
    it(`refuses ${what} with 401 wherever credentials are needed`, async () => {
      const failures = await sweep(async (route) => {
        if (ADMITS[route[2]].includes('anonymous') || route[2] === 'signed-inbound') return [];
        const res = await call(route, { authorization });
        return res.status === 401 ? [] : [`got ${res.status}`];
      });
      assert.deepEqual(failures, []);
    });
  }

  it('refuses a JWT signed with another secret with 401, whatever role it claims', async () => {
    const { issuer, audience } = s.config.auth;
    const forged = (role: string) =>
      jwt.sign({ role }, 'another-secret-that-is-at-least-32-chars', {
        algorithm: 'HS256',
        header: { alg: 'HS256', typ: 'at+jwt' },
        subject: operator.user.id,
        issuer,
        audience,
        expiresIn: 600,
      });
    const failures = await sweep(async (route) => {
      if (ADMITS[route[2]].includes('anonymous') || route[2] === 'signed-inbound') return [];
      const issues: string[] = [];
      for (const role of ['customer', 'operator']) {
        const res = await call(route, { authorization: `Bearer ${forged(role)}` });
        if (res.status !== 401) issues.push(`forged ${role}: ${res.status}`);
      }
      return issues;
    });
    assert.deepEqual(failures, []);
  });

  it('lists every route the app registers, and no other', () => {
    const app = createApp(s.config, { db: s.db, temporal: s.client, logger: createLogger(s.config), ...appPorts(createPorts(s.config, { db: s.db })) });
    const registered = registeredRoutes(app).map(({ method, path }) => `${method} ${path}`);
    const listed = ROUTES.map(label);
    assert.ok(registered.length > 0, 'the app reports no routes');
    assert.deepEqual(
      { missingFromTable: registered.filter((r) => !listed.includes(r)), notRegistered: listed.filter((r) => !registered.includes(r)) },
      { missingFromTable: [], notRegistered: [] },
    );
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { client } from '../helpers/http';
import { uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin } from '../helpers/users';

/** Every operator and service-token request leaves a row in the append-only audit_log. */
describe('operator audit trail (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let service: string;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    service = s.config.auth.serviceToken;
  });

  const trailOf = (requestId: string) => s.db('audit_log').where({ request_id: requestId });

  it('records a service-token posting with actor, route, resource id, status and request id', async () => {
    const ada = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const savings = await http('POST', `/internal/v1/users/${ada.user.id}/accounts`, { token: service, body: { type: 'savings', currency: 'USD' } });
    const requestId = `audit-${randomUUID()}`;
    const res = await http('POST', `/internal/v1/accounts/${savings.body.id}/postings`, {
      token: service,
      body: { direction: 'credit', amount: '2500', currency: 'USD', code: 'deposit', description: 'Salary' },
      headers: { 'idempotency-key': randomUUID(), 'x-request-id': requestId },
    });
    const rows = await trailOf(requestId);
    assert.equal(rows.length, 1);
    assert.deepEqual(
      { actor: rows[0].actor_type, user: rows[0].actor_user_id, method: rows[0].method, route: rows[0].route, resource: rows[0].resource_id, status: rows[0].status },
      { actor: 'service', user: null, method: 'POST', route: '/internal/v1/accounts/:accountId/postings', resource: savings.body.id, status: res.status },
    );
  });

  it("records an operator's read of another user's data under the operator's id", async () => {
    const operator = await createOperator(s.baseUrl, s.db, { phone: uniquePhone() });
    const customerId = randomUUID();
    const requestId = `audit-${randomUUID()}`;
    await http('GET', `/v1/operator/notifications?userId=${customerId}`, { token: operator.accessToken, headers: { 'x-request-id': requestId } });
    const [row] = await trailOf(requestId);
    assert.deepEqual([row?.actor_type, row?.actor_user_id, row?.actor_role, row?.status], ['user', operator.user.id, 'operator', 200]);
  });

  it('records a refused attempt on an operator route as anonymous with its status', async () => {
    const ada = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const requestId = `audit-${randomUUID()}`;
    await http('GET', '/v1/operator/notifications', { token: ada.accessToken, headers: { 'x-request-id': requestId } });
    const [row] = await trailOf(requestId);
    assert.deepEqual([row?.actor_type, row?.status], ['anonymous', 403]);
  });

  it('does not record customer routes', async () => {
    const ada = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const requestId = `audit-${randomUUID()}`;
    await http('GET', '/v1/accounts', { token: ada.accessToken, headers: { 'x-request-id': requestId } });
    assert.equal((await trailOf(requestId)).length, 0);
  });

  it('refuses to UPDATE an audit row', async () => {
    const requestId = `audit-${randomUUID()}`;
    await http('GET', '/internal/v1/ledger/trial-balance', { token: service, headers: { 'x-request-id': requestId } });
    await assert.rejects(trailOf(requestId).update({ status: 200 }), /append-only/);
  });

  it('refuses to DELETE an audit row', async () => {
    const requestId = `audit-${randomUUID()}`;
    await http('GET', '/internal/v1/ledger/trial-balance', { token: service, headers: { 'x-request-id': requestId } });
    await assert.rejects(trailOf(requestId).delete(), /append-only/);
  });

  describe('GET /internal/v1/audit', () => {
    it("lists one operator's entries, newest first, filtered by actor", async () => {
      const operator = await createOperator(s.baseUrl, s.db, { phone: uniquePhone() });
      for (let i = 0; i < 3; i++) await http('GET', '/v1/operator/notifications?limit=1', { token: operator.accessToken });
      const res = await http('GET', `/internal/v1/audit?actor=${operator.user.id}&limit=2`, { token: service });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 2);
      assert.ok(res.body.data.every((e: { actor: { userId: string } }) => e.actor.userId === operator.user.id));
      const next = await http('GET', `/internal/v1/audit?actor=${operator.user.id}&limit=2&cursor=${res.body.nextCursor}`, { token: service });
      assert.equal(next.body.data.length, 1);
      assert.equal(next.body.nextCursor, null);
    });

    it('filters by time: nothing before `from`', async () => {
      const operator = await createOperator(s.baseUrl, s.db, { phone: uniquePhone() });
      await http('GET', '/v1/operator/notifications?limit=1', { token: operator.accessToken });
      const from = new Date(Date.now() + 60_000).toISOString();
      const res = await http('GET', `/internal/v1/audit?actor=${operator.user.id}&from=${from}`, { token: service });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data, []);
    });

    it('answers an operator too', async () => {
      const operator = await createOperator(s.baseUrl, s.db, { phone: uniquePhone() });
      const res = await http('GET', '/internal/v1/audit?limit=1', { token: operator.accessToken });
      assert.equal(res.status, 200);
    });

    it('refuses a customer with 403', async () => {
      const ada = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
      const res = await http('GET', '/internal/v1/audit', { token: ada.accessToken });
      assert.equal(res.status, 403);
    });

    it('refuses `from` after `to` with 400 naming from', async () => {
      const res = await http('GET', '/internal/v1/audit?from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z', { token: service });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.errors.map((e: { field: string }) => e.field), ['from']);
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { statementPassword } from '../../src/activities/banking/statement-pdf';
import { pdfLines } from '../../src/activities/invoices/pdf-text';
import { client } from '../helpers/http';
import { deposit, uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { signUpAndLogin } from '../helpers/users';
import { eventually } from '../helpers/wait';

/** Statements through the API: asked for, made by the worker, listed, downloaded; bad requests refused naming the field. */
describe('statements (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;

  before(async function () {
    this.timeout(600_000);
    s = await stack();
    http = client(s.baseUrl);
  });

  async function customer(deposits = 3) {
    const user = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const walletId = (await http('GET', '/v1/accounts', { token: user.accessToken })).body.data[0].id as string;
    for (let i = 1; i <= deposits; i++) await deposit(s.db, walletId, BigInt(i * 1_000));
    return { ...user, walletId };
  }

  const ask = (token: string, accountId: string, body: object, key: string = randomUUID()) =>
    http('POST', `/v1/accounts/${accountId}/statements`, { token, body, headers: { 'idempotency-key': key } });

  const ready = (token: string, id: string) =>
    eventually('the statement to be ready', async () => {
      const res = await http('GET', `/v1/statements/${id}`, { token });
      return res.body.status === 'processing' ? undefined : res;
    });

  it('answers 202 with the statement and its Location, then shows it ready with totals and a working link', async () => {
    const ada = await customer(3);
    const res = await ask(ada.accessToken, ada.walletId, { lastN: 2 });
    assert.equal(res.status, 202);
    assert.equal(res.body.status, 'processing');
    assert.equal(res.headers.get('location'), `/v1/statements/${res.body.id}`);
    const done = await ready(ada.accessToken, res.body.id);
    assert.deepEqual(
      { status: done.body.status, lineCount: done.body.lineCount, opening: done.body.openingBalance, closing: done.body.closingBalance, credits: done.body.totalCredits },
      { status: 'ready', lineCount: 2, opening: '1000', closing: '6000', credits: '5000' },
    );
    const pdf = Buffer.from(await (await fetch(done.body.downloadUrl)).arrayBuffer());
    const text = (await pdfLines(pdf, statementPassword('1990-12-10'))).flat();
    assert.ok(text.some((line) => line.endsWith('Closing balance 60.00')), text.join(' | '));
  });

  it('defaults to the last 10 transactions', async () => {
    const ada = await customer(12);
    const res = await ask(ada.accessToken, ada.walletId, {});
    assert.equal((await ready(ada.accessToken, res.body.id)).body.lineCount, 10);
  });

  it('lists your statements, newest first, and hides them from others', async () => {
    const [ada, eve] = await Promise.all([customer(1), customer(0)]);
    const first = await ask(ada.accessToken, ada.walletId, { lastN: 1 });
    const second = await ask(ada.accessToken, ada.walletId, { lastN: 5 });
    const list = await http('GET', '/v1/statements', { token: ada.accessToken });
    assert.deepEqual(list.body.data.map((x: { id: string }) => x.id), [second.body.id, first.body.id]);
    assert.equal((await http('GET', `/v1/statements/${first.body.id}`, { token: eve.accessToken })).status, 404);
    assert.deepEqual((await http('GET', '/v1/statements', { token: eve.accessToken })).body.data, []);
  });

  it('makes one statement for a repeated Idempotency-Key', async () => {
    const ada = await customer(1);
    const key = randomUUID();
    const [a, b] = [await ask(ada.accessToken, ada.walletId, { lastN: 3 }, key), await ask(ada.accessToken, ada.walletId, { lastN: 3 }, key)];
    assert.equal(a.body.id, b.body.id);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
  });

  describe('bad input', () => {
    let ada: Awaited<ReturnType<typeof customer>>;
    before(async () => {
      ada = await customer(0);
    });

    const field = (res: { body: { errors?: Array<{ field: string }> } }) => res.body.errors?.map((e) => e.field);

    for (const [what, body, name] of [
      ['lastN 0', { lastN: 0 }, 'lastN'],
      ['lastN 1001', { lastN: 1001 }, 'lastN'],
      ['a reversed range', { from: '2026-11-30T00:00:00Z', to: '2026-11-01T00:00:00Z' }, 'from'],
      ['from without to', { from: '2026-11-01T00:00:00Z' }, 'to'],
      ['lastN with a range', { lastN: 5, from: '2026-11-01T00:00:00Z', to: '2026-11-30T00:00:00Z' }, 'lastN'],
    ] as const) {
      it(`refuses ${what} with 400 naming ${name}`, async () => {
        const res = await ask(ada.accessToken, ada.walletId, body);
        assert.deepEqual([res.status, res.headers.get('content-type'), field(res)], [400, 'application/problem+json', [name]]);
      });
    }

    it('refuses a period ending in the future with 400 naming to', async () => {
      const res = await ask(ada.accessToken, ada.walletId, { from: '2026-01-01T00:00:00Z', to: new Date(Date.now() + 86_400_000).toISOString() });
      assert.deepEqual([res.status, field(res)], [400, ['to']]);
    });

    it("refuses someone else's account with 404 naming id, and starts nothing", async () => {
      const eve = await customer(0);
      const res = await ask(ada.accessToken, eve.walletId, { lastN: 5 });
      assert.deepEqual([res.status, res.body.type, field(res)], [404, 'account_not_found', ['id']]);
      assert.equal((await s.db('statements').where({ account_id: eve.walletId })).length, 0);
    });

    it('refuses a request without an Idempotency-Key', async () => {
      const res = await http('POST', `/v1/accounts/${ada.walletId}/statements`, { token: ada.accessToken, body: { lastN: 5 } });
      assert.equal(res.status, 400);
    });
  });
});

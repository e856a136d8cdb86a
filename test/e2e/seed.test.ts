import assert from 'node:assert/strict';
import pino from 'pino';
import { DEMO_ACCOUNTS, seedDemoData, seedDemoStatementLines } from '../../src/dev/seed';
import { workflowIds } from '../../src/temporal/names';
import { appPorts, createPorts } from '../../src/worker/deps';
import { stack, type Stack } from '../helpers/services';

/** The demo data `npm start` seeds: users whose contacts are verified, so the walkthrough can pay them. */
describe('demo seed (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  const logger = pino({ level: 'silent' });

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    // The seed runs only in development (npm start); the stack runs as test.
    const app = { config: { ...s.config, env: 'development' as const }, deps: { db: s.db, temporal: s.client, logger, ...appPorts(createPorts(s.config, { db: s.db })), now: () => new Date() } };
    await seedDemoData(app, logger);
    await seedDemoStatementLines(app, logger);
  });

  for (const [who, account] of Object.entries(DEMO_ACCOUNTS)) {
    it(`verifies the ${who}'s email and phone`, async () => {
      const row = await s.db('users').where({ email: account.email }).first('email_verified_at', 'phone_verified_at');
      assert.ok(row?.email_verified_at && row.phone_verified_at, `${account.email} is not verified`);
    });
  }

  it("greets the demo customer's verified phone", async () => {
    const user = await s.db('users').where({ email: DEMO_ACCOUNTS.customer.email }).first('id');
    const result = await s.client.workflow.getHandle(workflowIds.onboarding(user.id)).result();
    const welcome = await s.db('notifications').where({ id: result.notificationId }).first('recipient');
    assert.equal(welcome?.recipient, DEMO_ACCOUNTS.customer.phone);
  });

  it("gives the demo customer's savings account and card transactions for a statement", async () => {
    const user = await s.db('users').where({ email: DEMO_ACCOUNTS.customer.email }).first('id');
    const accounts = await s.db('ledger_accounts').where({ owner_user_id: user.id }).whereIn('type', ['savings', 'credit_card']).orderBy('type');
    const counts = await Promise.all(accounts.map(async (a: { id: string }) => (await s.db('ledger_transfers').where({ credit_account_id: a.id }).orWhere({ debit_account_id: a.id })).length));
    assert.deepEqual(counts, [2, 8]);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { statementPassword } from '../../src/activities/banking/statement-pdf';
import { pdfLines } from '../../src/activities/invoices/pdf-text';
import { cardCycle, statementDaysClosingOn } from '../../src/banking/statement-cycles';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { workflowIds } from '../../src/temporal/names';
import { statementCycles } from '../../src/workflows';
import { statementCyclesProgressQuery, type StatementCyclesInput } from '../../src/workflows/banking/contract';
import { insertCustomer, testActivityDeps, uniqueTaskQueue } from '../helpers/fixtures';
import { customerWithWallet, uniquePhone } from '../helpers/money';
import { workflowTestBed } from '../helpers/services';
import { databaseOfItsOwn, freshBucket } from '../helpers/statement-runs';

/**
 * The daily statement run over a database of its own: a card's statement is cut over
 * its own cycle on its statement day (days 29–31 on a short month's last day), its dues
 * derived from that cycle, once per cycle however often the day is run.
 */
describe('statementCycles workflow (time-skipping server)', function () {
  this.timeout(180_000);
  let env: TestWorkflowEnvironment;
  let db: Db;
  let workflowBundle: WorkflowBundleWithSourceMap;
  let storage: ObjectStorage;
  const today = new Date().toISOString().slice(0, 10);
  const todayDay = Number(today.slice(8));
  /** Card ids by statement day; each owes 1,200.00 from a purchase made now. */
  const cards = new Map<number, string>();
  let wallet: string;

  /** A card with `statementDay` in card_terms, charged 1,200.00 now. */
  async function cardWithDebt(statementDay: number): Promise<string> {
    const userId = await insertCustomer(db, { phone: uniquePhone() });
    const ledger = createLedger(db);
    const card = await ledger.openAccount({ ownerUserId: userId, type: 'credit_card', currency: 'USD', creditLimitMinor: 500_000n });
    await db('card_terms').insert({ account_id: card.id, statement_day: statementDay });
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: card.id, creditAccountId: clearing.id, amountMinor: 120_000n, currency: 'USD', code: 'card_purchase', metadata: { description: 'Airline' } });
    return card.id;
  }

  before(async function () {
    this.timeout(600_000);
    ({ env, workflowBundle } = await workflowTestBed());
    [db, storage] = await Promise.all([databaseOfItsOwn('finflow_cycles'), freshBucket('cycles')]);
    for (const day of new Set([todayDay, 27, 28, 29, 30, 31])) cards.set(day, await cardWithDebt(day));
    // A wallet moved money now: it has no statement in February 2027, a month without activity.
    wallet = (await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: 5_000n })).wallet.id;
  });

  after(async () => {
    await db?.destroy();
  });

  async function runDay(input: StatementCyclesInput) {
    const taskQueue = uniqueTaskQueue('cycles');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle, activities: createActivities(testActivityDeps(db, { storage })) });
    return worker.runUntil(async () => {
      const handle = await env.client.workflow.start(statementCycles, { taskQueue, workflowId: `${workflowIds.statementCyclesOf(input.date ?? today)}:${randomUUID()}`, args: [input] });
      const result = await handle.result();
      return { result, progress: await handle.query(statementCyclesProgressQuery) };
    });
  }

  const statementOf = (accountId: string, month: string) => db('statements').where({ account_id: accountId, month }).first();

  it("cuts a card's statement on its statement day over the cycle that closes then, with the day's purchase on it", async () => {
    const { result } = await runDay({ date: today });
    assert.equal(result.failed, 0);
    const row = await statementOf(cards.get(todayDay) as string, today.slice(0, 7));
    const cycle = cardCycle(todayDay, today);
    assert.deepEqual(
      { status: row.status, from: row.period_from.toISOString(), to: row.period_to.toISOString(), lines: row.line_count, closing: row.closing_balance_minor },
      { status: 'ready', from: cycle.from, to: cycle.to, lines: 1, closing: '-120000' },
    );
  });

  it('closes cards of days 28 to 31 on 28 February 2027, each over its own cycle, and no card of day 27 nor an idle wallet', async () => {
    const date = '2027-02-28';
    const { result, progress } = await runDay({ date, pageSize: 2 });
    const expected = [...cards].filter(([day]) => statementDaysClosingOn(date).includes(day));
    assert.deepEqual(result, { date, total: expected.length, done: expected.length, failed: 0 });
    assert.deepEqual(progress, result);
    const rows: Array<{ account_id: string; period_from: Date; period_to: Date }> = await db('statements').where({ month: '2027-02' });
    assert.deepEqual(
      rows.map((r) => [r.account_id, r.period_from.toISOString(), r.period_to.toISOString()]).sort(),
      expected.map(([day, id]) => [id, cardCycle(day, date).from, '2027-03-01T00:00:00.000Z']).sort(),
    );
  });

  it("derives the card's dues from the cycle: owed at its close, minimum 5 %, due 21 days after the statement date", async () => {
    const row = await statementOf(cards.get(31) as string, '2027-02');
    const text = (await pdfLines(await storage.get(row.object_key), statementPassword('1990-01-01'))).flat();
    assert.deepEqual(
      text.filter((line) => /^(Total outstanding|Minimum amount due|Payment due date|Period)/.test(line)),
      ['Period 2027-02-01 to 2027-02-28', 'Total outstanding: USD 1,200.00', 'Minimum amount due: USD 60.00', 'Payment due date: 2027-03-21'],
    );
  });

  it("cuts every other account's calendar month on the month's last day, and never a system account's", async () => {
    const now = new Date();
    const monthEnd = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 0)).toISOString().slice(0, 10);
    const { result } = await runDay({ date: monthEnd });
    assert.equal(result.failed, 0);
    const rows: Array<{ account_id: string }> = await db('statements').where({ month: today.slice(0, 7) });
    const cardsThisMonth = [...cards].filter(([day]) => day === todayDay || statementDaysClosingOn(monthEnd).includes(day)).map(([, id]) => id);
    assert.deepEqual(rows.map((r) => r.account_id).sort(), [...cardsThisMonth, wallet].sort());
  });

  it('makes no second statement or SMS for any account when a day is run again', async () => {
    const count = async () => ({
      statements: (await db('statements').count<Array<{ count: string }>>({ count: '*' }))[0]?.count,
      links: (await db('notifications').where({ template: 'statement_link' }).count<Array<{ count: string }>>({ count: '*' }))[0]?.count,
    });
    const before = await count();
    const { result } = await runDay({ date: '2027-02-28' });
    assert.deepEqual([result.done, await count()], [result.total, before]);
  });
});

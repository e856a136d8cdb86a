import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import type { Client } from '@temporalio/client';
import type { AppContext } from '../../src/api/core/context';
import { createRecurringPayment } from '../../src/api/recurring-payments/service';
import { createLedger } from '../../src/ledger/service';
import type { Ledger } from '../../src/ledger/types';
import { daysInMonth, formatLocalDate, instantOf, localDateOf, localDateTimeOf, type LocalDate } from '../../src/payments/recurring/period';
import { createClient } from '../../src/temporal/client';
import { scheduleIds } from '../../src/temporal/names';
import { client } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { signUpAndLogin, type SignedIn } from '../helpers/users';
import { appPorts, createPorts } from '../../src/worker/deps';
import { eventually } from '../helpers/wait';

/**
 * Recurring payments over HTTP on the full stack (PostgreSQL, the Temporal dev server,
 * the worker, the API): each is a real Temporal Schedule, whose runs pay through the
 * payment saga. BrightGrid Power charges a 0.50 fee; reference …55 is paid.
 */
const TZ = 'America/New_York';

/** `months` calendar months after (or before) the month of `date`, day 1. */
function monthStart(date: LocalDate, months: number): LocalDate {
  const index = date.year * 12 + (date.month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1, day: 1 };
}

describe('recurring payments (e2e)', function () {
  this.timeout(90_000);
  let s: Stack;
  let ledger: Ledger;
  let temporal: Client;
  let http: ReturnType<typeof client>;
  let alice: SignedIn;
  let bob: SignedIn;
  let aliceWallet: string;

  async function fund(accountId: string, amountMinor: bigint) {
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: accountId, amountMinor, currency: 'USD', code: 'bank_deposit' });
  }

  /** Today in the timezone, plus `days`. */
  function localDay(days: number, timezone = TZ): string {
    const today = localDateOf(new Date(), timezone);
    return formatLocalDate(localDateOf(new Date(Date.UTC(today.year, today.month - 1, today.day + days, 12)), 'UTC'));
  }

  const body = (overrides: Record<string, unknown> = {}) => ({
    billerId: 'brightgrid-power',
    customerRef: '4820193755',
    amount: '2500',
    fromAccountId: aliceWallet,
    frequency: 'monthly',
    startDate: localDay(3),
    timezone: TZ,
    ...overrides,
  });
  const create = (user: SignedIn, payload: Record<string, unknown>, key = randomUUID()) =>
    http('POST', '/v1/recurring-payments', { token: user.accessToken, headers: { 'idempotency-key': key }, body: payload });
  const schedule = (id: string) => temporal.schedule.getHandle(scheduleIds.recurringPayment(id));
  const paymentsOf = (id: string) => s.db('payments').where({ recurring_payment_id: id }).orderBy('period');

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    ledger = createLedger(s.db);
    temporal = createClient(s.config.temporal);
    http = client(s.baseUrl);
    [alice, bob] = await Promise.all([signUpAndLogin(s.baseUrl), signUpAndLogin(s.baseUrl)]);
    aliceWallet = (await ledger.listAccounts(alice.user.id)).find((a) => a.type === 'wallet')!.id;
    await fund(aliceWallet, 100_000n);
  });

  after(async () => {
    // Leave no Schedule of this run firing into the shared dev server.
    for (const row of await s.db('recurring_payments').whereIn('user_id', [alice.user.id, bob.user.id]).whereNot({ status: 'cancelled' })) {
      await temporal.schedule
        .getHandle(row.schedule_id)
        .delete()
        .catch(() => undefined);
    }
    await temporal.connection.close();
  });

  describe('POST /v1/recurring-payments', () => {
    it('creates a Schedule in the customer timezone and shows its next runs', async () => {
      const res = await create(alice, body({ startDate: localDay(3), timezone: 'america/new_york' }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.headers.get('location'), `/v1/recurring-payments/${res.body.id}`);
      assert.deepEqual(
        { status: res.body.status, timezone: res.body.timezone, localTime: res.body.localTime, scheduleId: res.body.scheduleId, pastRuns: res.body.pastRuns },
        { status: 'active', timezone: TZ, localTime: '09:00', scheduleId: `recurring-payment:${res.body.id}`, pastRuns: [] },
      );
      const described = await schedule(res.body.id).describe();
      assert.equal(described.spec.timezone, TZ);
      assert.equal(described.action.workflowType, 'recurringPaymentRun');
      assert.deepEqual(described.action.args, [{ recurringPaymentId: res.body.id }]);
      assert.equal(described.state.paused, false);
      assert.deepEqual(
        res.body.nextRuns,
        described.info.nextActionTimes.slice(0, 5).map((d) => d.toISOString()),
      );
      const first = localDateTimeOf(new Date(res.body.nextRuns[0]), TZ);
      assert.deepEqual([formatLocalDate(first), first.hour, first.minute], [localDay(3), 9, 0]);
    });

    it('answers a repeat of the request with the same recurring payment, and refuses the key for another', async () => {
      const key = randomUUID();
      const first = await create(alice, body(), key);
      const again = await create(alice, body(), key);
      assert.deepEqual([again.status, again.body.id], [201, first.body.id]);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      const other = await create(alice, body({ amount: '2600' }), key);
      assert.deepEqual([other.status, other.body.type], [422, 'idempotency_key_reused']);
    });

    it('requires an Idempotency-Key', async () => {
      const res = await http('POST', '/v1/recurring-payments', { token: alice.accessToken, body: body() });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'Idempotency-Key']);
    });

    const refusals: Array<[string, Record<string, unknown>, number, string, string]> = [
      ['a start date before today in the timezone', { startDate: '2020-01-01' }, 400, 'validation_error', 'startDate'],
      ['a day that does not exist', { startDate: '2027-02-29' }, 400, 'validation_error', 'startDate'],
      ['an unknown timezone', { timezone: 'Mars/Olympus_Mons' }, 400, 'validation_error', 'timezone'],
      ['an unknown frequency', { frequency: 'daily' }, 400, 'validation_error', 'frequency'],
      ['an unknown biller', { billerId: 'no-such-biller' }, 404, 'biller_not_found', 'billerId'],
      ['a reference not in the biller format', { customerRef: 'ABC' }, 400, 'validation_error', 'customerRef'],
      ['a reference the biller does not know', { customerRef: '4820193700' }, 422, 'invalid_customer_reference', 'customerRef'],
      ['an amount outside the biller limits', { amount: '100' }, 422, 'amount_out_of_range', 'amount'],
    ];
    for (const [what, overrides, status, type, field] of refusals) {
      it(`refuses ${what} with ${status} naming ${field}`, async () => {
        const res = await create(alice, body(overrides));
        assert.deepEqual([res.status, res.body.type, res.body.errors?.[0]?.field], [status, type, field], JSON.stringify(res.body));
      });
    }

    it("refuses another customer's account as not found", async () => {
      const bobWallet = (await ledger.listAccounts(bob.user.id))[0]!.id;
      const res = await create(alice, body({ fromAccountId: bobWallet }));
      assert.deepEqual([res.status, res.body.type, res.body.errors[0].field], [404, 'account_not_found', 'fromAccountId']);
    });

    it('pays at once when it starts today and 09:00 has passed where the customer lives', async () => {
      // A fixed-offset zone whose clock now reads between 10:00 and 22:59, so "today" is unambiguous.
      const timezone = Array.from({ length: 27 }, (_, i) => i - 12)
        .map((offset) => (offset <= 0 ? `Etc/GMT+${-offset}` : `Etc/GMT-${offset}`))
        .find((zone) => {
          const { hour } = localDateTimeOf(new Date(), zone);
          return hour >= 10 && hour <= 22;
        }) as string;
      const res = await create(alice, body({ startDate: localDay(0, timezone), timezone }));
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const today = localDateOf(new Date(), timezone);
      const period = formatLocalDate(today).slice(0, 7);
      const [payment] = await eventually('the first payment', async () => {
        const rows = await paymentsOf(res.body.id);
        return rows.length > 0 && rows[0].status !== 'processing' ? rows : undefined;
      }, 45_000, 250);
      assert.deepEqual([payment.status, payment.period], ['succeeded', period]);
      // The next run is next month's, not today's again.
      const next = localDateOf(new Date((await http('GET', `/v1/recurring-payments/${res.body.id}`, { token: alice.accessToken })).body.nextRuns[0]), timezone);
      assert.equal(formatLocalDate(next).slice(0, 7), formatLocalDate(monthStart(today, 1)).slice(0, 7));
    });
  });

  describe('three skipped periods of a monthly schedule', () => {
    it('are paid exactly once each by a backfill, however often it is run', async () => {
      // A recurring payment on the 31st set up four months ago (the service, with the
      // clock of that day: the API only accepts today or later), whose last three
      // months of runs were missed.
      const thisMonth = monthStart(localDateOf(new Date(), TZ), 0);
      let setUp = monthStart(thisMonth, -4);
      while (daysInMonth(setUp.year, setUp.month) < 31) setUp = monthStart(setUp, -1);
      const startDate = { ...setUp, day: 31 };
      const past: AppContext = {
        config: s.config,
        deps: { db: s.db, temporal, logger: pino({ level: 'silent' }), ...appPorts(createPorts(s.config, { db: s.db })), now: () => instantOf({ ...startDate, day: 30, hour: 12 }, TZ) },
      };
      const { view } = await createRecurringPayment(past, alice.user.id, randomUUID(), { ...body(), startDate: formatLocalDate(startDate) } as never);
      const id = view.row.id;

      const window = { start: instantOf(monthStart(thisMonth, -3), TZ), end: instantOf(thisMonth, TZ), overlap: 'ALLOW_ALL' as const };
      const expected = [-3, -2, -1].map((m) => formatLocalDate(monthStart(thisMonth, m)).slice(0, 7));
      /** Waits for the Schedule to have taken `actions` actions, then for its latest three runs to end; their results. */
      const lastThreeRuns = async (actions: number) => {
        const { info } = await eventually(`${actions} actions`, async () => {
          const described = await schedule(id).describe();
          return described.info.numActionsTaken >= actions ? described : undefined;
        }, 45_000, 250);
        const runs = info.recentActions.slice(-3).map(({ action }) => temporal.workflow.getHandle(action.workflow.workflowId, action.workflow.firstExecutionRunId));
        return Promise.all(runs.map(async (run) => (await run.result()) as { period: string; status: string }));
      };
      const periods = async () => (await paymentsOf(id)).map((p) => [p.period, p.status]);

      await schedule(id).backfill(window);
      assert.deepEqual(
        (await lastThreeRuns(3)).map((r) => [r.period, r.status]),
        expected.map((period) => [period, 'paid']),
      );
      assert.deepEqual(
        await periods(),
        expected.map((period) => [period, 'succeeded']),
      );

      // The same backfill again: three more runs, each finding its period paid.
      await schedule(id).backfill(window);
      assert.deepEqual(
        (await lastThreeRuns(6)).map((r) => [r.period, r.status]),
        expected.map((period) => [period, 'already_paid']),
      );
      assert.deepEqual(
        await periods(),
        expected.map((period) => [period, 'succeeded']),
      );

      const got = await http('GET', `/v1/recurring-payments/${id}`, { token: alice.accessToken });
      assert.deepEqual(
        got.body.pastRuns.map((r: { period: string; status: string; payments: unknown[] }) => [r.period, r.status, r.payments.length]),
        [...expected].reverse().map((period) => [period, 'succeeded', 1]),
      );
    });
  });

  describe('pause, resume and delete', () => {
    it('pause and resume pause and unpause the Schedule', async () => {
      const { body: created } = await create(alice, body());
      const paused = await http('POST', `/v1/recurring-payments/${created.id}/pause`, { token: alice.accessToken });
      assert.deepEqual([paused.status, paused.body.status, paused.body.pausedReason, paused.body.nextRuns], [200, 'paused', 'paused_by_customer', []]);
      assert.equal((await schedule(created.id).describe()).state.paused, true);

      const again = await http('POST', `/v1/recurring-payments/${created.id}/pause`, { token: alice.accessToken });
      assert.deepEqual([again.status, again.body.status], [200, 'paused']);

      const resumed = await http('POST', `/v1/recurring-payments/${created.id}/resume`, { token: alice.accessToken });
      assert.deepEqual([resumed.status, resumed.body.status, resumed.body.pausedReason], [200, 'active', null]);
      assert.equal(resumed.body.nextRuns.length, 5);
      assert.equal((await schedule(created.id).describe()).state.paused, false);
    });

    it('delete removes the Schedule and cancels it for good', async () => {
      const { body: created } = await create(alice, body());
      const deleted = await http('DELETE', `/v1/recurring-payments/${created.id}`, { token: alice.accessToken });
      assert.deepEqual([deleted.status, deleted.body.status, deleted.body.nextRuns], [200, 'cancelled', []]);
      assert.ok(deleted.body.cancelledAt);
      await assert.rejects(schedule(created.id).describe(), { name: 'ScheduleNotFoundError' });

      const twice = await http('DELETE', `/v1/recurring-payments/${created.id}`, { token: alice.accessToken });
      assert.deepEqual([twice.status, twice.body.status], [200, 'cancelled']);
      const resume = await http('POST', `/v1/recurring-payments/${created.id}/resume`, { token: alice.accessToken });
      assert.deepEqual([resume.status, resume.body.type], [409, 'conflict']);
    });
  });

  describe('reading', () => {
    it('lists the caller’s recurring payments newest first, a page at a time', async () => {
      const carol = await signUpAndLogin(s.baseUrl);
      const wallet = (await ledger.listAccounts(carol.user.id))[0]!.id;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await create(carol, body({ fromAccountId: wallet }))).body.id);
      const first = await http('GET', '/v1/recurring-payments?limit=2', { token: carol.accessToken });
      assert.equal(first.status, 200);
      const second = await http('GET', `/v1/recurring-payments?limit=2&cursor=${first.body.nextCursor}`, { token: carol.accessToken });
      assert.deepEqual(
        [...first.body.data, ...second.body.data].map((r: { id: string }) => r.id),
        [...ids].reverse(),
      );
      assert.equal(second.body.nextCursor, null);
      for (const id of ids) await http('DELETE', `/v1/recurring-payments/${id}`, { token: carol.accessToken });
    });

    it('shows the next run of each active one on the dashboard', async () => {
      const dave = await signUpAndLogin(s.baseUrl);
      const wallet = (await ledger.listAccounts(dave.user.id))[0]!.id;
      const soon = (await create(dave, body({ fromAccountId: wallet, startDate: localDay(2) }))).body;
      const later = (await create(dave, body({ fromAccountId: wallet, startDate: localDay(5), amount: '3000' }))).body;
      const stopped = (await create(dave, body({ fromAccountId: wallet, startDate: localDay(1) }))).body;
      await http('POST', `/v1/recurring-payments/${stopped.id}/pause`, { token: dave.accessToken });

      const res = await http('GET', '/v1/me/dashboard', { token: dave.accessToken });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.upcomingRecurringPayments, [
        { id: soon.id, billerId: 'brightgrid-power', amount: '2500', currency: 'USD', nextRunAt: soon.nextRuns[0] },
        { id: later.id, billerId: 'brightgrid-power', amount: '3000', currency: 'USD', nextRunAt: later.nextRuns[0] },
      ]);
      for (const r of [soon, later, stopped]) await http('DELETE', `/v1/recurring-payments/${r.id}`, { token: dave.accessToken });
    });

    it("answers 404 for another customer's recurring payment, whatever the verb", async () => {
      const { body: created } = await create(alice, body());
      for (const [method, path] of [
        ['GET', ''],
        ['POST', '/pause'],
        ['POST', '/resume'],
        ['DELETE', ''],
      ] as const) {
        const res = await http(method, `/v1/recurring-payments/${created.id}${path}`, { token: bob.accessToken });
        assert.deepEqual([res.status, res.body.type], [404, 'not_found'], `${method} ${path}`);
      }
      const list = await http('GET', '/v1/recurring-payments', { token: bob.accessToken });
      assert.deepEqual(list.body.data, []);
      assert.equal((await schedule(created.id).describe()).state.paused, false);
    });
  });
});

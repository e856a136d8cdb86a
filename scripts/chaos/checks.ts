import type { Client, WorkflowExecutionInfo, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { LINE_CHECKS } from './line-checks';
import { byKind, requestRows, rowsOf } from './rows';
import type { Issued } from './operations';

/**
 * The invariants a chaos run must end with, each a named check that lists what broke it.
 * They run after the system has settled (settle() below), on PostgreSQL (the ledger, the
 * products' rows, the sandboxes' records of what providers were asked, the outbox) and
 * on Temporal (every workflow's state and history).
 */

export interface Violation {
  check: string;
  detail: string;
}

export type Check = { name: string; run: (ctx: CheckContext) => Promise<string[]> };

export interface CheckContext {
  db: Db;
  temporal: Client;
  issued: Issued[];
  /** The bucket the processes store in (statements, invoices, partner files). */
  storage?: ObjectStorage;
  /** Every process's log, searched for card numbers. */
  logFiles?: string[];
  /** Workflows seen stuck or failing a task (filled by the workflow checks). */
  workflows?: WorkflowReport;
}

/** Pending holds expire by a Schedule every 15 min (src/temporal/client.ts): that long past its timeout a hold is late. */
const HOLD_EXPIRY_SLACK = '16 minutes';

export const CHECKS: Check[] = [
  {
    name: 'trial balance is zero in every currency',
    async run({ db }) {
      return (await createLedger(db).trialBalance())
        .filter((row) => row.posted.differenceMinor !== 0n || row.pending.differenceMinor !== 0n)
        .map((row) => `${row.currency}: posted off by ${row.posted.differenceMinor}, pending off by ${row.pending.differenceMinor}`);
    },
  },
  {
    name: 'every account equals the sum of its transfers',
    async run({ db }) {
      const rows = await rowsOf<Record<string, string>>(db, `
        with sums as (
          select a.id,
                 coalesce(sum(t.amount_minor) filter (where t.debit_account_id = a.id and t.kind in ('posted', 'post_pending')), 0) as dp,
                 coalesce(sum(t.amount_minor) filter (where t.credit_account_id = a.id and t.kind in ('posted', 'post_pending')), 0) as cp,
                 coalesce(sum(t.amount_minor) filter (where t.debit_account_id = a.id and t.kind = 'pending' and r.pending_id is null), 0) as dq,
                 coalesce(sum(t.amount_minor) filter (where t.credit_account_id = a.id and t.kind = 'pending' and r.pending_id is null), 0) as cq
            from ledger_accounts a
            left join ledger_transfers t on t.debit_account_id = a.id or t.credit_account_id = a.id
            left join ledger_pending_resolutions r on r.pending_id = t.id
           where a.rule <> 'none'
           group by a.id)
        select a.id, a.debits_posted, s.dp, a.credits_posted, s.cp, a.debits_pending, s.dq, a.credits_pending, s.cq
          from ledger_accounts a join sums s using (id)
         where a.debits_posted <> s.dp or a.credits_posted <> s.cp or a.debits_pending <> s.dq or a.credits_pending <> s.cq`);
      return rows.map((r) => `account ${r.id}: totals ${r.debits_posted}/${r.credits_posted}/${r.debits_pending}/${r.credits_pending}, transfers ${r.dp}/${r.cp}/${r.dq}/${r.cq}`);
    },
  },
  {
    name: 'no constrained account below its rule',
    async run({ db }) {
      const rows = await rowsOf<Record<string, string>>(db, `
        select id, type from ledger_accounts
         where rule <> 'none' and debits_posted + debits_pending - credit_limit_minor > credits_posted`);
      return rows.map((r) => `${r.type} ${r.id} is below its rule`);
    },
  },
  {
    name: 'no pending hold older than its timeout',
    async run({ db }) {
      const rows = await rowsOf<Record<string, string>>(db, `
        select t.id, t.timeout_at from ledger_transfers t left join ledger_pending_resolutions r on r.pending_id = t.id
         where t.kind = 'pending' and r.pending_id is null and t.timeout_at < now() - interval '${HOLD_EXPIRY_SLACK}'`);
      return rows.map((r) => `hold ${r.id} timed out at ${r.timeout_at} and is still pending`);
    },
  },
  {
    name: 'each funding charged once and credited once, none for a refused request',
    async run({ db, issued }) {
      const { problems } = await requestRows(db, 'wallet_fundings', byKind(issued, 'funding'), 'funding');
      // The processor's side: a successful charge is a succeeded funding and the reverse, and no charge is without a funding.
      const mismatched = await rowsOf<{ workflow_id: string; status: string | null; charge: string | null }>(db, `
        select coalesce(f.workflow_id, c.charge_id) as workflow_id, f.status, c.status as charge
          from wallet_fundings f full join sandbox_funding_charges c on c.charge_id = f.workflow_id || ':charge'
         where (coalesce(c.status, '') = 'succeeded') <> (coalesce(f.status, '') = 'succeeded')`);
      problems.push(...mismatched.map((m) => `funding ${m.workflow_id}: ${m.charge === 'succeeded' ? 'charged' : `charge ${m.charge ?? 'missing'}`} but ${m.status ?? 'no funding row'}`));
      // Credits per funding: one wallet_funding transfer per succeeded funding, found by its id.
      const credits = await rowsOf<{ id: string; n: string }>(db, `
        select f.workflow_id as id, count(t.id) as n from wallet_fundings f
          left join ledger_transfers t on t.id = f.transfer_id and t.code = 'wallet_funding' and t.credit_account_id = f.account_id and t.amount_minor = f.amount_minor
         where f.status = 'succeeded' group by f.workflow_id having count(t.id) <> 1`);
      problems.push(...credits.map((c) => `funding ${c.id}: ${c.n} matching ledger credits`));
      const [totals] = await rowsOf<{ fundings: string; credits: string }>(db, `
        select (select coalesce(sum(amount_minor), 0) from wallet_fundings where status = 'succeeded') as fundings,
               (select coalesce(sum(amount_minor), 0) from ledger_transfers where code = 'wallet_funding') as credits`);
      if (totals && totals.fundings !== totals.credits) problems.push(`succeeded fundings total ${totals.fundings}, wallet_funding credits ${totals.credits}`);
      return problems;
    },
  },
  {
    name: 'each customer transfer moved money once, none for a refused request',
    async run({ db, issued }) {
      const { problems } = await requestRows(db, 'customer_transfers', byKind(issued, 'transfer'), 'transfer');
      const mismatched = await rowsOf<{ workflow_id: string; n: string }>(db, `
        select c.workflow_id, count(t.id) as n from customer_transfers c
          left join ledger_transfers t on t.id = c.transfer_id and t.code = 'p2p_transfer' and t.debit_account_id = c.from_account_id and t.credit_account_id = c.to_account_id and t.amount_minor = c.amount_minor
         where c.status = 'succeeded' group by c.workflow_id having count(t.id) <> 1`);
      problems.push(...mismatched.map((m) => `transfer ${m.workflow_id}: ${m.n} matching ledger transfers`));
      const [totals] = await rowsOf<{ rows: string; ledger: string }>(db, `
        select (select coalesce(sum(amount_minor), 0) from customer_transfers where status = 'succeeded') as rows,
               (select coalesce(sum(amount_minor), 0) from ledger_transfers where code = 'p2p_transfer') as ledger`);
      if (totals && totals.rows !== totals.ledger) problems.push(`succeeded transfers total ${totals.rows}, p2p_transfer ledger total ${totals.ledger}`);
      return problems;
    },
  },
  {
    name: 'each bank posting posted once, none for a refused request',
    async run({ db, issued }) {
      const { problems } = await requestRows(db, 'bank_postings', byKind(issued, 'bank_posting'), 'posting');
      const wrong = await rowsOf<{ workflow_id: string; status: string; n: string }>(db, `
        select p.workflow_id, p.status, count(t.id) as n from bank_postings p
          left join ledger_transfers t on t.id = p.id or t.id = p.transfer_id
         group by p.workflow_id, p.status
        having (p.status = 'succeeded' and count(t.id) <> 1) or (p.status = 'failed' and count(t.id) <> 0)`);
      return [...problems, ...wrong.map((w) => `posting ${w.workflow_id} (${w.status}): ${w.n} ledger transfers`)];
    },
  },
  {
    name: 'each payment paid the biller once and moved money once; a failed one left no effect',
    async run({ db, issued }) {
      const requests = [...byKind(issued, 'bill_payment'), ...byKind(issued, 'card_payment'), ...byKind(issued, 'invoice_payment')];
      const { problems } = await requestRows(db, 'payments', requests, 'payment');
      // Net effect on the paying account of every transfer of the payment, and holds left open.
      const effects = await rowsOf<Record<string, string>>(db, `
        select p.id, p.kind, p.status, p.amount_minor, p.fee_minor, p.workflow_id,
               coalesce(sum(case when t.kind in ('posted', 'post_pending') and t.debit_account_id = p.from_account_id then t.amount_minor
                                 when t.kind in ('posted', 'post_pending') and t.credit_account_id = p.from_account_id then -t.amount_minor else 0 end), 0) as paid,
               count(t.id) filter (where t.kind = 'pending' and r.pending_id is null) as open_holds,
               (select count(*) from sandbox_biller_payments b where b.payment_id = p.id::text and b.status = 'accepted') as biller_accepted
          from payments p
          left join ledger_transfers t on t.metadata ->> 'paymentId' = p.id::text
          left join ledger_pending_resolutions r on r.pending_id = t.id
         group by p.id`);
      for (const e of effects) {
        const expected = e.status === 'succeeded' ? BigInt(e.amount_minor as string) + BigInt(e.fee_minor as string) : 0n;
        if (e.status === 'succeeded' || e.status === 'failed' || e.status === 'cancelled') {
          if (BigInt(e.paid as string) !== expected) problems.push(`payment ${e.workflow_id} (${e.status}): paid ${e.paid}, expected ${expected}`);
          if (e.open_holds !== '0') problems.push(`payment ${e.workflow_id} (${e.status}): ${e.open_holds} holds still pending`);
        }
        if (e.kind === 'bill' && e.status === 'succeeded' && e.biller_accepted !== '1') problems.push(`payment ${e.workflow_id}: succeeded but the biller accepted ${e.biller_accepted} payments`);
        if (e.kind === 'bill' && e.status === 'failed' && e.biller_accepted !== '0') problems.push(`payment ${e.workflow_id}: failed (refunded) but the biller accepted it`);
      }
      return problems;
    },
  },
  {
    name: 'each period of a recurring payment paid at most once, and run',
    async run({ db, issued }) {
      const problems: string[] = [];
      for (const i of issued.filter((r) => r.kind === 'recurring_payment' && r.recurringPaymentId)) {
        const rows: Array<{ period: string; status: string }> = await db('payments').where({ recurring_payment_id: i.recurringPaymentId }).select('period', 'status');
        if (rows.length === 0) problems.push(`recurring payment ${i.recurringPaymentId}: today's period never ran`);
        const paid = new Map<string, number>();
        for (const r of rows) if (r.status === 'succeeded') paid.set(r.period, (paid.get(r.period) ?? 0) + 1);
        for (const [period, n] of paid) if (n > 1) problems.push(`recurring payment ${i.recurringPaymentId}: period ${period} paid ${n} times`);
      }
      return problems;
    },
  },
  {
    name: 'each signed-up customer has one wallet',
    async run({ db, issued }) {
      const ids = issued.filter((i) => i.kind === 'signup' && i.outcome === 'succeeded' && i.id).map((i) => i.id as string);
      if (ids.length === 0) return [];
      const rows = await rowsOf<{ owner_user_id: string; n: string }>(db, `
        select u.id as owner_user_id, count(a.id) as n from users u left join ledger_accounts a on a.owner_user_id = u.id and a.type = 'wallet'
         where u.id = any(?::uuid[]) group by u.id having count(a.id) <> 1`, [ids]);
      return rows.map((r) => `customer ${r.owner_user_id}: ${r.n} wallets`);
    },
  },
  {
    name: 'each message sent at most once per (purpose, recipient)',
    async run({ db }) {
      const rows = await rowsOf<{ key: string; n: string }>(db, `
        select coalesce(provider || ':' || provider_message_id, dedupe_key) as key, count(*) as n from notifications
         group by 1 having count(*) > 1
        union all
        select template || ' to ' || recipient || ' for ' || dedupe_key, count(*) from notifications group by template, recipient, dedupe_key having count(*) > 1
        union all
        select 'the SMS provider sent ' || reference, sends from sandbox_sms_messages where sends > 1`);
      return rows.map((r) => `${r.key}: ${r.n} messages`);
    },
  },
  {
    name: 'every message owed went out (or its failure was recorded)',
    async run({ db }) {
      return unsentMessages(db);
    },
  },
  ...LINE_CHECKS,
  {
    name: 'no workflow stuck',
    async run(ctx) {
      return (ctx.workflows ?? (ctx.workflows = await inspectWorkflows(ctx))).stuck;
    },
  },
  {
    name: 'no workflow task failed (non-determinism) in any history',
    async run(ctx) {
      return (ctx.workflows ?? (ctx.workflows = await inspectWorkflows(ctx))).taskFailures;
    },
  },
];

/**
 * Messages owed that are not out yet: transaction alerts of fundings, both sides of
 * transfers and postings; the notice of a failed payment (a recurring payment short of
 * funds is told by its dunning messages instead); a statement's link (or the notice that
 * it failed); an invoice's email and SMS. Settling waits for these too.
 */
export async function unsentMessages(db: Db): Promise<string[]> {
  const owed = await rowsOf<{ key: string; status: string | null }>(db, `
    with owed(key) as (
      select 'alert:' || transfer_id || ':' || account_id from wallet_fundings where status = 'succeeded'
      union all select 'alert:' || transfer_id || ':' || from_account_id from customer_transfers where status = 'succeeded'
      union all select 'alert:' || transfer_id || ':' || to_account_id from customer_transfers where status = 'succeeded'
      union all select 'alert:' || coalesce(transfer_id, id) || ':' || account_id from bank_postings where status = 'succeeded'
      union all select workflow_id || ':notice' from payments
       where status in ('failed', 'cancelled') and not (recurring_payment_id is not null and failure_reason = 'insufficient_funds')
      union all select workflow_id || case status when 'ready' then ':link' else ':failed' end from statements where status in ('ready', 'failed')
      union all select 'invoice:' || id || ':' || channel from invoices, (values ('email'), ('sms')) as c (channel) where status = 'parsed')
    select o.key, n.status from owed o left join notifications n on n.dedupe_key = o.key
     where n.status is null or n.status = 'queued'`);
  return owed.map((o) => `${o.key}: ${o.status ?? 'never sent'}`);
}

export async function runChecks(ctx: CheckContext): Promise<Violation[]> {
  const violations: Violation[] = [];
  for (const check of CHECKS) {
    let found: string[];
    try {
      found = await check.run(ctx);
    } catch (err) {
      found = [`the check itself failed: ${(err as Error).message}`];
    }
    violations.push(...found.map((detail) => ({ check: check.name, detail })));
  }
  return violations;
}

export interface WorkflowReport {
  total: number;
  running: number;
  /** Running at the end, by workflow type: each is parked on a timer, an activity or a child. */
  runningByType: Record<string, number>;
  /**
   * Evidence that kills landed mid-task: activity attempts started again after the
   * previous attempt timed out (its worker died holding it), and workflow tasks that
   * timed out (their worker died during the task).
   */
  activityRetriesAfterTimeout: number;
  workflowTaskTimeouts: number;
  stuck: string[];
  taskFailures: string[];
}

const { EventType, WorkflowTaskFailedCause } = temporal.api.enums.v1;
/** Causes that say the code, not the weather, failed the task. */
const CODE_FAILURES = new Set([WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR, WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_WORKFLOW_WORKER_UNHANDLED_FAILURE]);

/** Running, and waiting on nothing: no pending activity, child or workflow task, no timer started and not fired. */
async function isIdle(handle: WorkflowHandle): Promise<boolean> {
  const { raw, status } = await handle.describe();
  if (status.name !== 'RUNNING') return false;
  if ((raw.pendingActivities?.length ?? 0) > 0 || (raw.pendingChildren?.length ?? 0) > 0 || raw.pendingWorkflowTask) return false;
  const open = new Set<string>();
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const id = event.timerStartedEventAttributes?.timerId ?? event.timerFiredEventAttributes?.timerId ?? event.timerCanceledEventAttributes?.timerId;
    if (!id) continue;
    if (event.eventType === EventType.EVENT_TYPE_TIMER_STARTED) open.add(id);
    else open.delete(id);
  }
  return open.size === 0;
}

/** Every workflow's history: a running one must wait on an activity, a child or a timer; none may have failed a task on its code. */
export async function inspectWorkflows({ temporal: client }: CheckContext): Promise<WorkflowReport> {
  const executions: WorkflowExecutionInfo[] = [];
  for await (const execution of client.workflow.list()) executions.push(execution);
  const report: WorkflowReport = { total: executions.length, running: 0, runningByType: {}, activityRetriesAfterTimeout: 0, workflowTaskTimeouts: 0, stuck: [], taskFailures: [] };
  const queue = [...executions];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let execution = queue.shift(); execution; execution = queue.shift()) {
        const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
        const history = await handle.fetchHistory();
        const events = history.events ?? [];
        for (const event of events) {
          if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) report.workflowTaskTimeouts += 1;
          const attempt = event.activityTaskStartedEventAttributes;
          if (attempt && (attempt.attempt ?? 1) > 1 && attempt.lastFailure?.timeoutFailureInfo) report.activityRetriesAfterTimeout += 1;
          const cause = event.workflowTaskFailedEventAttributes?.cause;
          if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED && cause !== undefined && cause !== null && CODE_FAILURES.has(cause)) {
            report.taskFailures.push(`${execution.workflowId}: ${event.workflowTaskFailedEventAttributes?.failure?.message ?? 'workflow task failed'}`);
          }
        }
        if (execution.status.name !== 'RUNNING') continue;
        // A workflow between two steps can look idle for an instant: it is stuck only if it looks so twice, 5 s apart.
        let idle = await isIdle(handle);
        if (idle) {
          await new Promise((resolve) => setTimeout(resolve, 5_000));
          idle = await isIdle(handle);
        }
        const still = (await handle.describe()).status.name === 'RUNNING';
        if (still) {
          report.running += 1;
          report.runningByType[execution.type] = (report.runningByType[execution.type] ?? 0) + 1;
        }
        if (idle && still) report.stuck.push(`${execution.workflowId} (${execution.type}) is running with no pending activity, child, workflow task or timer`);
      }
    }),
  );
  return report;
}

import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex';
import { LedgerError } from './errors';
import { accountIdFrom, isUuid } from './ids';
import { toAccount, toBigInt, toTotals, type AccountRow } from './rows';
import type { Account, AccountTotals, AccountType, BalanceRule, CustomerAccountType, OpenAccountInput, SystemRole, TrialBalanceRow } from './types';

const CUSTOMER_TYPES: readonly CustomerAccountType[] = ['wallet', 'savings', 'credit_card', 'cashback'];
const SYSTEM_ROLES: readonly SystemRole[] = ['funding_clearing', 'biller_settlement', 'fee_revenue', 'cashback_expense'];
const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const RULES: Record<AccountType, BalanceRule> = {
  wallet: 'debits_within_credits',
  savings: 'debits_within_credits',
  cashback: 'debits_within_credits',
  credit_card: 'debits_within_limit',
  system: 'none',
};
const MAX_INT8 = 2n ** 63n - 1n;

function assertCurrency(currency: string): void {
  if (!CURRENCY_PATTERN.test(currency)) throw new TypeError(`currency must be an ISO 4217 code, got ${JSON.stringify(currency)}`);
}

function creditLimitOf(input: OpenAccountInput): bigint {
  if (input.type !== 'credit_card') {
    if (input.creditLimitMinor !== undefined && input.creditLimitMinor !== 0n) throw new TypeError('only a credit_card has a credit limit');
    return 0n;
  }
  const limit = input.creditLimitMinor;
  if (typeof limit !== 'bigint' || limit < 0n || limit > MAX_INT8) throw new TypeError('a credit_card needs creditLimitMinor, a bigint ≥ 0');
  return limit;
}

export async function openAccount(db: Db, input: OpenAccountInput): Promise<Account> {
  const id = input.id ?? randomUUID();
  if (!isUuid(id) || !isUuid(input.ownerUserId)) throw new TypeError('account id and ownerUserId must be uuids');
  if (!CUSTOMER_TYPES.includes(input.type)) throw new TypeError(`cannot open an account of type ${JSON.stringify(input.type)}`);
  assertCurrency(input.currency);
  const creditLimitMinor = creditLimitOf(input);

  const [inserted] = await db('ledger_accounts')
    .insert({
      id,
      owner_user_id: input.ownerUserId,
      type: input.type,
      currency: input.currency,
      rule: RULES[input.type],
      credit_limit_minor: creditLimitMinor.toString(),
    })
    .onConflict('id')
    .ignore()
    .returning('*');
  if (inserted) return toAccount(inserted as AccountRow);

  const existing = (await db('ledger_accounts').where({ id }).first()) as AccountRow | undefined;
  const same =
    existing &&
    existing.owner_user_id === input.ownerUserId &&
    existing.type === input.type &&
    existing.currency === input.currency &&
    toBigInt(existing.credit_limit_minor) === creditLimitMinor;
  if (!same) throw new LedgerError('exists_with_different_fields', `account ${id} exists with different fields`);
  return toAccount(existing);
}

/** The system account for (role, currency), created on first use by whoever gets there first. */
/** Creates the system account for (role, currency) if missing; its id is derived, so no read is needed. */
export async function ensureSystemAccountId(db: Db, role: SystemRole, currency: string): Promise<string> {
  if (!SYSTEM_ROLES.includes(role)) throw new TypeError(`unknown system role ${JSON.stringify(role)}`);
  assertCurrency(currency);
  const id = accountIdFrom(`system:${role}:${currency}`);
  await db('ledger_accounts').insert({ id, system_role: role, type: 'system', currency, rule: RULES.system }).onConflict().ignore();
  return id;
}

export async function ensureSystemAccount(db: Db, role: SystemRole, currency: string): Promise<Account> {
  await ensureSystemAccountId(db, role, currency);
  const row = (await db('ledger_accounts').where({ system_role: role, currency }).first()) as AccountRow;
  return toAccount(row, await systemAccountTotals(db, row.id));
}

/**
 * A system account's totals, summed over its transfers. Its row holds none: keeping them
 * there would make every transfer through it queue on one row lock.
 */
export async function systemAccountTotals(db: Db, accountId: string): Promise<AccountTotals> {
  const { rows } = await db.raw(
    `select
       coalesce(sum(t.amount_minor) filter (where t.debit_account_id = :id and t.kind in ('posted', 'post_pending')), 0) as debits_posted,
       coalesce(sum(t.amount_minor) filter (where t.credit_account_id = :id and t.kind in ('posted', 'post_pending')), 0) as credits_posted,
       coalesce(sum(t.amount_minor) filter (where t.debit_account_id = :id and t.kind = 'pending' and r.pending_id is null), 0) as debits_pending,
       coalesce(sum(t.amount_minor) filter (where t.credit_account_id = :id and t.kind = 'pending' and r.pending_id is null), 0) as credits_pending
     from ledger_transfers t
     left join ledger_pending_resolutions r on r.pending_id = t.id
     where t.debit_account_id = :id or t.credit_account_id = :id`,
    { id: accountId },
  );
  return toTotals(rows[0]);
}

async function withTotals(db: Db, row: AccountRow): Promise<Account> {
  return row.rule === 'none' ? toAccount(row, await systemAccountTotals(db, row.id)) : toAccount(row);
}

export async function getAccount(db: Db, id: string): Promise<Account | null> {
  if (!isUuid(id)) return null;
  const row = (await db('ledger_accounts').where({ id }).first()) as AccountRow | undefined;
  return row ? withTotals(db, row) : null;
}

export async function listAccounts(db: Db, ownerUserId: string): Promise<Account[]> {
  if (!isUuid(ownerUserId)) return [];
  const rows = (await db('ledger_accounts').where({ owner_user_id: ownerUserId }).orderBy(['created_at', 'id'])) as AccountRow[];
  return rows.map((row) => toAccount(row));
}

/**
 * Σ debits and Σ credits per currency over every account: stored totals for constrained
 * accounts, sums over transfers for system ones, read in one snapshot. A non-zero
 * difference means stored totals drifted from the transfers that should explain them.
 */
export async function trialBalance(db: Db): Promise<TrialBalanceRow[]> {
  const { rows } = await db.raw(`
    with constrained as (
      select currency, sum(debits_posted) as dp, sum(credits_posted) as cp, sum(debits_pending) as dq, sum(credits_pending) as cq
        from ledger_accounts where rule <> 'none' group by currency
    ), unconstrained as (
      select t.currency,
             sum(t.amount_minor) filter (where da.rule = 'none' and t.kind in ('posted', 'post_pending')) as dp,
             sum(t.amount_minor) filter (where ca.rule = 'none' and t.kind in ('posted', 'post_pending')) as cp,
             sum(t.amount_minor) filter (where da.rule = 'none' and t.kind = 'pending' and r.pending_id is null) as dq,
             sum(t.amount_minor) filter (where ca.rule = 'none' and t.kind = 'pending' and r.pending_id is null) as cq
        from ledger_transfers t
        join ledger_accounts da on da.id = t.debit_account_id
        join ledger_accounts ca on ca.id = t.credit_account_id
        left join ledger_pending_resolutions r on r.pending_id = t.id
       where da.rule = 'none' or ca.rule = 'none'
       group by t.currency
    )
    select currency, coalesce(sum(dp), 0) as dp, coalesce(sum(cp), 0) as cp, coalesce(sum(dq), 0) as dq, coalesce(sum(cq), 0) as cq
      from (select * from constrained union all select * from unconstrained) s
     group by currency order by currency`);
  return (rows as Array<Record<'currency' | 'dp' | 'cp' | 'dq' | 'cq', string>>).map((row) => {
    const side = (debits: string, credits: string) => ({
      debitsMinor: BigInt(debits),
      creditsMinor: BigInt(credits),
      differenceMinor: BigInt(debits) - BigInt(credits),
    });
    return { currency: row.currency, posted: side(row.dp, row.cp), pending: side(row.dq, row.cq) };
  });
}

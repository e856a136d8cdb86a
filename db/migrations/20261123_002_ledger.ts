import type { Knex } from 'knex';

/**
 * The double-entry ledger (docs/ledger.md): accounts with running totals, insert-only
 * transfers, the pending-resolution claim table, and the PL/pgSQL engine through which
 * every transfer is written in one round trip: `ledger_create_transfer` (one) and
 * `ledger_create_transfers` (a batch, optionally linked). Both decide with the same
 * rules (`ledger_decide`); they differ in how they gather facts and apply totals.
 *
 * Some shapes here are chosen for the engine's cost per call, which the benchmark
 * (bench/ledger.ts) holds against a single-row UPDATE:
 *  - PostgreSQL deserialises and plans a table's CHECK expressions (and generated
 *    columns) again on every statement that writes the table, and the engine writes
 *    both tables on every call. Single-column rules are therefore domains, whose checks
 *    are cached and run only on assigned columns, and table CHECKs are kept small.
 *  - Domain checks avoid regular expressions, which cost microseconds per value.
 */

const DOMAINS = `
  create domain ledger_currency as text
    check (length(value) = 3 and translate(value, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '') = '');
  create domain ledger_code as text
    check (length(value) between 1 and 64
           and translate(value, 'abcdefghijklmnopqrstuvwxyz0123456789_', '') = ''
           and strpos('abcdefghijklmnopqrstuvwxyz', left(value, 1)) > 0);
  create domain ledger_account_type as text check (value in ('wallet', 'savings', 'credit_card', 'cashback', 'system'));
  create domain ledger_system_role as text
    check (value in ('funding_clearing', 'biller_settlement', 'fee_revenue', 'cashback_expense'));
  create domain ledger_balance_rule as text check (value in ('debits_within_credits', 'debits_within_limit', 'none'));
  create domain ledger_transfer_kind as text
    check (value in ('posted', 'pending', 'post_pending', 'void_pending', 'expire_pending'));
  create domain ledger_amount as bigint check (value > 0);
  create domain ledger_total as bigint check (value >= 0);
  create domain ledger_metadata as jsonb check (jsonb_typeof(value) = 'object');`;

const ACCOUNTS = `
  create table ledger_accounts (
    id uuid primary key,
    -- Set null when the owner is erased: the ledger history stays, anonymised.
    owner_user_id uuid references users (id) on delete set null,
    system_role ledger_system_role,
    type ledger_account_type not null,
    currency ledger_currency not null,
    rule ledger_balance_rule not null,
    credit_limit_minor ledger_total not null default 0,
    debits_pending ledger_total not null default 0,
    debits_posted ledger_total not null default 0,
    credits_pending ledger_total not null default 0,
    credits_posted ledger_total not null default 0,
    created_at timestamptz not null default now(),
    -- The balance rule, a last line of defence behind the engine's own check: debits ≤
    -- credits + limit, written as differences so that no sum can overflow bigint.
    constraint ledger_accounts_rule check (debits_posted - credit_limit_minor <= credits_posted - debits_pending)
  ) with (fillfactor = 80)`;

const TRANSFERS = `
  create table ledger_transfers (
    id uuid primary key,
    kind ledger_transfer_kind not null,
    debit_account_id uuid not null references ledger_accounts (id),
    credit_account_id uuid not null references ledger_accounts (id),
    amount_minor ledger_amount not null,
    currency ledger_currency not null,
    code ledger_code not null,
    -- Set on post_pending, void_pending and expire_pending: the pending they resolve.
    pending_id uuid references ledger_transfers (id),
    -- Pending transfers only.
    timeout_at timestamptz,
    metadata ledger_metadata not null default '{}',
    created_at timestamptz not null default now(),
    constraint ledger_transfers_shape check (
      debit_account_id <> credit_account_id
      and case kind
            when 'posted' then pending_id is null and timeout_at is null
            when 'pending' then pending_id is null
            else pending_id is not null and timeout_at is null
          end
    )
  )`;

// Exactly one resolution per pending transfer: the primary key is the claim.
const RESOLUTIONS = `
  create table ledger_pending_resolutions (
    pending_id uuid primary key references ledger_transfers (id),
    transfer_id uuid not null references ledger_transfers (id),
    outcome text not null check (outcome in ('posted', 'voided', 'expired')),
    created_at timestamptz not null default now()
  )`;

const INDEXES = [
  // Account history, newest first by (created_at, id), on each side of a transfer.
  'create index ledger_transfers_debit_idx on ledger_transfers (debit_account_id, created_at, id)',
  'create index ledger_transfers_credit_idx on ledger_transfers (credit_account_id, created_at, id)',
  // Pending transfers awaiting expiry. Resolved ones stay in the index (rows are never
  // edited); the expiry query skips them with an anti-join on the resolutions.
  `create index ledger_transfers_pending_timeout_idx on ledger_transfers (timeout_at, id)
     where kind = 'pending' and timeout_at is not null`,
  `create unique index ledger_accounts_system_role_idx on ledger_accounts (system_role, currency)
     where system_role is not null`,
  'create index ledger_accounts_owner_idx on ledger_accounts (owner_user_id, created_at)',
];

/**
 * History is never edited. The one exception is `metadata` of a transfer, which a GDPR
 * erasure may need to scrub: an UPDATE that changes nothing else passes.
 */
const GUARDS = `
  create function ledger_forbid_edits() returns trigger language plpgsql as $$
  begin
    if tg_op = 'UPDATE' and tg_table_name = 'ledger_transfers'
       and (to_jsonb(new) - 'metadata') = (to_jsonb(old) - 'metadata') then
      return new;
    end if;
    raise exception '% on % is not allowed: ledger history is never edited (correct it with a reversing transfer)', tg_op, tg_table_name
      using errcode = 'restrict_violation';
  end $$;

  create trigger ledger_transfers_append_only before update or delete on ledger_transfers
    for each row execute function ledger_forbid_edits();
  create trigger ledger_transfers_no_truncate before truncate on ledger_transfers
    for each statement execute function ledger_forbid_edits();
  create trigger ledger_pending_resolutions_append_only before update or delete on ledger_pending_resolutions
    for each row execute function ledger_forbid_edits();
  create trigger ledger_pending_resolutions_no_truncate before truncate on ledger_pending_resolutions
    for each statement execute function ledger_forbid_edits();`;

/**
 * An account's shape: the rule follows from the type; a system account has a role, no
 * owner and no totals (its balances are sums over its transfers); only a credit card
 * has a limit. A trigger rather than a CHECK, because it fires only when these columns
 * are written, not on the engine's updates of the totals.
 */
const ACCOUNT_SHAPE = `
  create function ledger_check_account_shape() returns trigger language plpgsql as $$
  begin
    if not (case new.type
         when 'system' then new.rule = 'none' and new.system_role is not null and new.owner_user_id is null
           and new.debits_pending = 0 and new.debits_posted = 0 and new.credits_pending = 0 and new.credits_posted = 0
         when 'credit_card' then new.rule = 'debits_within_limit' and new.system_role is null
         else new.rule = 'debits_within_credits' and new.system_role is null and new.credit_limit_minor = 0
       end) then
      raise exception 'ledger account % has an invalid shape (type %, rule %, role %)', new.id, new.type, new.rule, new.system_role
        using errcode = 'check_violation';
    end if;
    return new;
  end $$;

  create trigger ledger_accounts_shape
    before insert or update of type, rule, system_role, owner_user_id, credit_limit_minor on ledger_accounts
    for each row execute function ledger_check_account_shape();`;

/**
 * Whether an input transfer has a shape the engine accepts; anything else is a caller's
 * bug and raises `invalid_parameter_value` instead of producing a result. Posted and
 * pending transfers name accounts, amount, currency and code; resolutions name only
 * their pending (and, for post_pending, optionally an amount).
 */
const WELL_FORMED = `
  create type ledger_transfer_input as (
    id uuid, kind text, debit_account_id uuid, credit_account_id uuid, amount_minor numeric,
    currency text, code text, pending_id uuid, timeout_at timestamptz, metadata jsonb
  );

  create function ledger_well_formed(
    kind text, id uuid, debit_id uuid, credit_id uuid, amount numeric, currency text, code text,
    pending_id uuid, timeout_at timestamptz, metadata jsonb
  ) returns boolean language sql immutable parallel safe as $$
    select coalesce(
      id is not null
      and (amount is null or amount = trunc(amount))
      and (metadata is null or jsonb_typeof(metadata) = 'object')
      and case
        when kind in ('posted', 'pending') then
          debit_id is not null and credit_id is not null and amount is not null and currency is not null and code is not null
          and pending_id is null and (timeout_at is null or kind = 'pending')
        when kind in ('post_pending', 'void_pending', 'expire_pending') then
          pending_id is not null and debit_id is null and credit_id is null and currency is null and code is null
          and timeout_at is null and (amount is null or kind = 'post_pending')
        else false
      end, false)
  $$;

  create function ledger_malformed(ord int) returns text language plpgsql as $$
  begin
    raise exception 'ledger: transfer % is malformed', ord using errcode = 'invalid_parameter_value';
  end $$`;

/**
 * Whether a stored transfer is the one an input asks for. Resolutions leave accounts,
 * currency and code null (they are the pending's), and a post_pending may leave its
 * amount null (the whole hold); null matches what is stored.
 */
const MATCHES = `
  create function ledger_transfer_matches(
    s ledger_transfers, i_kind text, i_debit uuid, i_credit uuid, i_amount numeric, i_currency text,
    i_code text, i_pending uuid, i_timeout timestamptz, i_metadata jsonb
  ) returns boolean language sql immutable parallel safe as $$
    select s.kind = i_kind
       and s.debit_account_id = coalesce(i_debit, s.debit_account_id)
       and s.credit_account_id = coalesce(i_credit, s.credit_account_id)
       and s.amount_minor = coalesce(i_amount, s.amount_minor)
       and s.currency = coalesce(i_currency, s.currency)
       and s.code = coalesce(i_code, s.code)
       and s.pending_id is not distinct from i_pending
       and s.timeout_at is not distinct from i_timeout
       and s.metadata = coalesce(i_metadata, '{}')
  $$`;

/**
 * The rules a new transfer must pass, in the order they are checked: 'created', or the
 * first failure (docs/ledger.md lists them). Pure: the engine passes the facts and the
 * running totals of the accounts, null for an unconstrained account (no rule concerns
 * it). One CASE, which PL/pgSQL inlines and evaluates as a single expression.
 */
const DECIDE = `
  create function ledger_decide(
    kind text, amount numeric, debit_id uuid, credit_id uuid, currency text,
    debit_found boolean, debit_currency text, credit_found boolean, credit_currency text,
    pending ledger_transfers, pending_resolved boolean, now timestamptz,
    debit_rule text, debit_limit bigint, debits_posted bigint, debits_pending bigint, debit_credits_posted bigint,
    credits_posted bigint, credits_pending bigint
  ) returns text language sql immutable parallel safe as $$
    select case
      when amount <= 0 then 'amount_must_be_positive'
      when amount > 9223372036854775807 then 'amount_too_large'
      when kind in ('posted', 'pending') then
        case
          when debit_id = credit_id then 'accounts_must_differ'
          when not (debit_found and credit_found) then 'account_not_found'
          when debit_currency <> currency or credit_currency <> currency then 'currency_mismatch'
          -- amount ≤ credits posted − debits posted − debits pending (+ limit)
          when amount - debit_limit > debit_credits_posted - debits_posted - debits_pending then
            case debit_rule when 'debits_within_limit' then 'exceeds_credit_limit' else 'insufficient_funds' end
          when kind = 'posted' and (debits_posted > 9223372036854775807 - amount or credits_posted > 9223372036854775807 - amount)
            then 'amount_too_large'
          when kind = 'pending' and (debits_pending > 9223372036854775807 - amount or credits_pending > 9223372036854775807 - amount)
            then 'amount_too_large'
          else 'created'
        end
      when pending.kind is distinct from 'pending' then 'pending_not_found'
      when pending_resolved then 'pending_already_resolved'
      when kind = 'expire_pending' then
        case when pending.timeout_at <= now then 'created' else 'pending_not_expired' end
      when pending.timeout_at <= now then 'pending_expired'
      when kind = 'void_pending' then 'created'
      when coalesce(amount, pending.amount_minor) > pending.amount_minor then 'amount_exceeds_pending'
      when debits_posted > 9223372036854775807 - coalesce(amount, pending.amount_minor)
        or credits_posted > 9223372036854775807 - coalesce(amount, pending.amount_minor) then 'amount_too_large'
      else 'created'
    end
  $$`;

/**
 * How a created transfer moves the totals of both its accounts alike: into posted, and
 * into pending (negative when a hold is released). `held` is the pending's amount.
 */
const MOVES = `
  create function ledger_posted_delta(kind text, amount bigint) returns bigint language sql immutable parallel safe as $$
    select case when kind in ('posted', 'post_pending') then amount else 0 end
  $$;
  create function ledger_pending_delta(kind text, amount bigint, held bigint) returns bigint language sql immutable parallel safe as $$
    select case kind when 'posted' then 0 when 'pending' then amount else -held end
  $$`;

/**
 * One transfer. Phases, each a primary-key probe or a one-row write:
 *  1. Lock the constrained accounts it touches (its own, or its pending's) in id order,
 *     so concurrent calls never deadlock. System accounts (rule none) are neither
 *     locked nor updated: a lock on them would make every transfer through them queue.
 *  2. After the locks, read what the rules need, so every committed transfer on those
 *     accounts is visible; decide (ledger_decide).
 *  3. Insert the transfer first; then its resolution, if it resolves a pending; then
 *     update the totals.
 * Two races remain, both only between calls that no constrained account serialised
 * (system-to-system transfers). A concurrent call may commit the same id between 2 and
 * 3: the insert then does nothing and the answer is the one a retry would get. Or it
 * may resolve the same pending first: then this call fails with serialization_failure
 * (40001), and a retry answers pending_already_resolved.
 *
 * Cost notes: plans are generic (every lookup is by key, and custom plans would be
 * re-planned on each call); PL/pgSQL sets up each expression again in every
 * transaction, so the function keeps them few and uses no exception block, whose
 * subtransaction would cost as much as a statement.
 */
const CREATE_TRANSFER = `
  create function ledger_create_transfer(p_transfer jsonb)
  returns table (result text, transfer ledger_transfers)
  language plpgsql
  set plan_cache_mode = force_generic_plan
  as $fn$
  declare
    t ledger_transfer_input := jsonb_populate_record(null::ledger_transfer_input, p_transfer);
    v_pending ledger_transfers;
    v_row ledger_transfers;
    v_debit uuid; v_credit uuid;
    v_acc_id uuid[]; v_acc_rule text[]; v_acc_limit bigint[]; v_acc_currency text[];
    v_dp bigint[]; v_dpend bigint[]; v_cp bigint[]; v_cpend bigint[];
    v_di int; v_ci int;
    v_debit_currency text; v_credit_currency text;
    v_resolved boolean;
    v_now timestamptz;
    v_amount bigint;
  begin
    if not ledger_well_formed(t.kind, t.id, t.debit_account_id, t.credit_account_id, t.amount_minor, t.currency, t.code,
                              t.pending_id, t.timeout_at, t.metadata) then
      perform ledger_malformed(1);
    end if;
    if t.kind in ('posted', 'pending') then
      v_debit := t.debit_account_id; v_credit := t.credit_account_id;
    else
      -- Stored transfers never change, so the pending may be read before the locks.
      select p.* into v_pending from ledger_transfers p where p.id = t.pending_id;
      v_debit := v_pending.debit_account_id; v_credit := v_pending.credit_account_id;
    end if;

    -- Phase 1.
    select coalesce(array_agg(a.id), '{}'), array_agg(a.rule), array_agg(a.credit_limit_minor), array_agg(a.currency),
           array_agg(a.debits_posted), array_agg(a.debits_pending), array_agg(a.credits_posted), array_agg(a.credits_pending)
      into v_acc_id, v_acc_rule, v_acc_limit, v_acc_currency, v_dp, v_dpend, v_cp, v_cpend
      from (select a.* from ledger_accounts a where a.id in (v_debit, v_credit) and a.rule <> 'none'
             order by a.id for no key update) a;
    -- After the locks, so per constrained account created_at follows the order of application.
    v_now := clock_timestamp();
    v_di := array_position(v_acc_id, v_debit);
    v_ci := array_position(v_acc_id, v_credit);

    -- Phase 2.
    select e.* into v_row from ledger_transfers e where e.id = t.id;
    if v_row.id is not null then
      result := case when ledger_transfer_matches(v_row, t.kind, t.debit_account_id, t.credit_account_id,
        t.amount_minor, t.currency, t.code, t.pending_id, t.timeout_at, t.metadata) then 'exists' else 'exists_with_different_fields' end;
    else
      if t.kind in ('posted', 'pending') then
        v_debit_currency := v_acc_currency[v_di];
        v_credit_currency := v_acc_currency[v_ci];
        if v_di is null then select a.currency into v_debit_currency from ledger_accounts a where a.id = v_debit; end if;
        if v_ci is null then select a.currency into v_credit_currency from ledger_accounts a where a.id = v_credit; end if;
      else
        v_resolved := exists (select from ledger_pending_resolutions r where r.pending_id = t.pending_id);
      end if;
      result := ledger_decide(t.kind, t.amount_minor, t.debit_account_id, t.credit_account_id, t.currency,
        v_debit_currency is not null, v_debit_currency, v_credit_currency is not null, v_credit_currency,
        v_pending, v_resolved, v_now,
        v_acc_rule[v_di], v_acc_limit[v_di], v_dp[v_di], v_dpend[v_di], v_cp[v_di], v_cp[v_ci], v_cpend[v_ci]);

      -- Phase 3.
      if result = 'created' then
        v_amount := case when t.kind in ('void_pending', 'expire_pending') then v_pending.amount_minor
                         else coalesce(t.amount_minor::bigint, v_pending.amount_minor) end;
        -- Positional: the columns of ledger_transfers, in order.
        v_row := row(t.id, t.kind, v_debit, v_credit, v_amount, coalesce(t.currency, v_pending.currency),
                     coalesce(t.code, v_pending.code), t.pending_id, t.timeout_at, coalesce(t.metadata, '{}'), v_now)::ledger_transfers;
        insert into ledger_transfers select (v_row).* on conflict (id) do nothing;
        if not found then
          select e.* into v_row from ledger_transfers e where e.id = t.id;
          result := case when ledger_transfer_matches(v_row, t.kind, t.debit_account_id, t.credit_account_id,
            t.amount_minor, t.currency, t.code, t.pending_id, t.timeout_at, t.metadata) then 'exists' else 'exists_with_different_fields' end;
        else
          if t.pending_id is not null then
            insert into ledger_pending_resolutions (pending_id, transfer_id, outcome, created_at)
            values (t.pending_id, t.id,
                    case t.kind when 'post_pending' then 'posted' when 'void_pending' then 'voided' else 'expired' end, v_now)
            on conflict (pending_id) do nothing;
            if not found then
              raise exception 'ledger: pending % was resolved concurrently', t.pending_id using errcode = 'serialization_failure';
            end if;
          end if;
          update ledger_accounts a
             set debits_posted = a.debits_posted + case when a.id = v_debit then ledger_posted_delta(t.kind, v_amount) else 0 end,
                 debits_pending = a.debits_pending
                   + case when a.id = v_debit then ledger_pending_delta(t.kind, v_amount, v_pending.amount_minor) else 0 end,
                 credits_posted = a.credits_posted + case when a.id = v_credit then ledger_posted_delta(t.kind, v_amount) else 0 end,
                 credits_pending = a.credits_pending
                   + case when a.id = v_credit then ledger_pending_delta(t.kind, v_amount, v_pending.amount_minor) else 0 end
           where a.id in (v_debit, v_credit) and a.rule <> 'none';
        end if;
      end if;
    end if;

    transfer := case when result in ('created', 'exists') then v_row end;
    return next;
  end
  $fn$`;

/**
 * Everything a batch needs to decide each input transfer, except what depends on the
 * batch itself: the input and whether it is well formed, the stored transfer with the
 * same id, the pending it resolves and whether that is resolved, the accounts'
 * currencies, and their positions among the locked accounts. Every lookup is a
 * primary-key probe, so the plan never depends on table statistics. Inlined.
 */
const FACTS = `
  create function ledger_transfer_facts(p_transfers jsonb, p_locked uuid[])
  returns table (
    ord int, id uuid, kind text, debit_account_id uuid, credit_account_id uuid, amount_minor numeric,
    currency text, code text, pending_id uuid, timeout_at timestamptz, metadata jsonb, well_formed boolean,
    e_row ledger_transfers, e_same boolean, p_row ledger_transfers, p_resolved boolean,
    d_currency text, c_currency text, d_idx int, c_idx int
  )
  language sql stable parallel safe as $$
    select x.ord::int, x.id, x.kind, x.debit_account_id, x.credit_account_id, x.amount_minor, x.currency, x.code,
           x.pending_id, x.timeout_at, coalesce(x.metadata, '{}'),
           ledger_well_formed(x.kind, x.id, x.debit_account_id, x.credit_account_id, x.amount_minor, x.currency, x.code,
                              x.pending_id, x.timeout_at, x.metadata),
           e.t, case when (e.t).id is not null then ledger_transfer_matches(e.t, x.kind, x.debit_account_id,
             x.credit_account_id, x.amount_minor, x.currency, x.code, x.pending_id, x.timeout_at, x.metadata) end,
           p.t, res.pending_id is not null, da.currency, ca.currency, dl.idx::int, cl.idx::int
      from jsonb_populate_recordset(null::ledger_transfer_input, p_transfers) with ordinality
           as x(id, kind, debit_account_id, credit_account_id, amount_minor, currency, code, pending_id, timeout_at, metadata, ord)
      left join lateral (select e as t from ledger_transfers e where e.id = x.id limit 1) e on true
      left join lateral (select p as t from ledger_transfers p where p.id = x.pending_id limit 1) p on true
      left join lateral (
        select res.pending_id from ledger_pending_resolutions res where res.pending_id = x.pending_id limit 1
      ) res on true
      left join lateral (select da.currency from ledger_accounts da where da.id = x.debit_account_id limit 1) da on true
      left join lateral (select ca.currency from ledger_accounts ca where ca.id = x.credit_account_id limit 1) ca on true
      left join unnest(p_locked) with ordinality as dl(id, idx) on dl.id = coalesce(x.debit_account_id, (p.t).debit_account_id)
      left join unnest(p_locked) with ordinality as cl(id, idx) on cl.id = coalesce(x.credit_account_id, (p.t).credit_account_id)
  $$`;

/**
 * A batch: transfers applied in order against running totals, in one transaction.
 *  1. Lock the constrained accounts of the whole batch (its own accounts and those of
 *     the pendings it resolves) in id order; system accounts are not locked.
 *  2. After the locks, read the facts of every transfer in one query, and which
 *     transfers of the batch share an id, resolve the same pending, or resolve a
 *     pending created earlier in the batch.
 *  3. Decide each transfer in order (ledger_decide) against running totals held in
 *     arrays; with p_linked, stop at the first failure and write nothing.
 *  4. Insert the transfers and resolutions and update the totals of changed accounts.
 *  5. Answer one row per input, in input order.
 * A batch of one is ledger_create_transfer's.
 */
const CREATE_TRANSFERS = `
  create function ledger_create_transfers(p_transfers jsonb, p_linked boolean)
  returns table (result text, transfer ledger_transfers)
  language plpgsql
  set plan_cache_mode = force_generic_plan
  as $fn$
  declare
    v_n constant int := jsonb_array_length(p_transfers);
    -- Locked accounts, by position: rule, limit, and running totals (as locked, then as
    -- each created transfer moves them).
    v_acc_id uuid[];
    v_acc_rule text[];
    v_acc_limit bigint[];
    v_dp bigint[]; v_dpend bigint[]; v_cp bigint[]; v_cpend bigint[];
    -- Per input transfer, by ordinal: the result, the stored transfer (when created or
    -- existing), and the locked positions of its accounts.
    v_status text[];
    v_rows ledger_transfers[];
    v_didx int[]; v_cidx int[];
    v_now timestamptz;
    v_failed boolean := false;
    v_fail_ord int;
    v_created int := 0;
    v_resolutions int := 0;
    v_written int;
    r record;
    o int;
    v_result text;
    v_pending ledger_transfers;
    v_pending_resolved boolean;
    v_po int;
    v_di int; v_ci int;
    v_amount bigint;
  begin
    if v_n = 0 then
      return;
    elsif v_n = 1 then
      return query select * from ledger_create_transfer(p_transfers -> 0);
      return;
    end if;

    -- Phase 1. The arrays are aggregated in one pass, so they are aligned by position.
    select coalesce(array_agg(a.id), '{}'), array_agg(a.rule), array_agg(a.credit_limit_minor),
           array_agg(a.debits_posted), array_agg(a.debits_pending), array_agg(a.credits_posted), array_agg(a.credits_pending)
      into v_acc_id, v_acc_rule, v_acc_limit, v_dp, v_dpend, v_cp, v_cpend
      from (
        select a.id, a.rule, a.credit_limit_minor, a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending
          from ledger_accounts a
         where a.rule <> 'none'
           and a.id = any (array(
             select unnest(array[x.debit_account_id, x.credit_account_id, p.debit_account_id, p.credit_account_id])
               from jsonb_to_recordset(p_transfers) as x(debit_account_id uuid, credit_account_id uuid, pending_id uuid)
               left join lateral (
                 select p.debit_account_id, p.credit_account_id from ledger_transfers p where p.id = x.pending_id limit 1
               ) p on true
           ))
         order by a.id
         for no key update
      ) a;
    v_now := clock_timestamp();

    -- Every per-transfer array spans [1:n], so they stay aligned by ordinal.
    v_status := array_fill(null::text, array[v_n]);
    v_rows := array_fill(null::ledger_transfers, array[v_n]);
    v_didx := array_fill(null::int, array[v_n]); v_cidx := v_didx;

    -- Phase 2, and 3 for each transfer in order.
    for r in
      with f as materialized (select * from ledger_transfer_facts(p_transfers, v_acc_id)),
      ids as (select f.id, array_agg(f.ord) as ords from f group by f.id),
      pendings as (select f.pending_id, array_agg(f.ord) as ords from f where f.pending_id is not null group by f.pending_id)
      select f.*,
             case when cardinality(sid.ords) > 1 then sid.ords end as same_id_ords,
             pid.ords as pending_ords,
             case when cardinality(spd.ords) > 1 then spd.ords end as same_pending_ords
        from f
        left join ids sid on sid.id = f.id
        left join ids pid on pid.id = f.pending_id
        left join pendings spd on spd.pending_id = f.pending_id
       order by f.ord
    loop
      if not r.well_formed then
        perform ledger_malformed(r.ord);
      end if;
      v_result := null;

      -- The same id stored already, or created earlier in this batch.
      if r.e_same is not null then
        v_result := case when r.e_same then 'exists' else 'exists_with_different_fields' end;
        if r.e_same then
          v_rows[r.ord] := r.e_row;
        end if;
      elsif r.same_id_ords is not null then
        foreach o in array r.same_id_ords loop
          if o < r.ord and v_status[o] = 'created' then
            if ledger_transfer_matches(v_rows[o], r.kind, r.debit_account_id, r.credit_account_id, r.amount_minor,
                                       r.currency, r.code, r.pending_id, r.timeout_at, r.metadata) then
              v_result := 'exists';
              v_rows[r.ord] := v_rows[o];
            else
              v_result := 'exists_with_different_fields';
            end if;
          end if;
        end loop;
      end if;

      if v_result is null then
        -- The pending a resolution refers to: stored, or created earlier in this batch.
        v_pending := null; v_pending_resolved := r.p_resolved; v_po := null;
        if r.pending_id is not null then
          if (r.p_row).id is not null then
            v_pending := r.p_row;
          elsif r.pending_ords is not null then
            foreach o in array r.pending_ords loop
              if o < r.ord and v_status[o] = 'created' then
                v_po := o;
                v_pending := v_rows[o];
              end if;
            end loop;
          end if;
          if r.same_pending_ords is not null then
            foreach o in array r.same_pending_ords loop
              if o < r.ord and v_status[o] = 'created' then
                v_pending_resolved := true;
              end if;
            end loop;
          end if;
        end if;
        v_di := coalesce(v_didx[v_po], r.d_idx);
        v_ci := coalesce(v_cidx[v_po], r.c_idx);

        v_result := ledger_decide(
          r.kind, r.amount_minor, r.debit_account_id, r.credit_account_id, r.currency,
          r.d_currency is not null, r.d_currency, r.c_currency is not null, r.c_currency, v_pending, v_pending_resolved, v_now,
          v_acc_rule[v_di], v_acc_limit[v_di], v_dp[v_di], v_dpend[v_di], v_cp[v_di], v_cp[v_ci], v_cpend[v_ci]);

        if v_result = 'created' then
          v_amount := case when r.kind in ('void_pending', 'expire_pending') then v_pending.amount_minor
                           else coalesce(r.amount_minor::bigint, v_pending.amount_minor) end;
          if v_di is not null then
            v_dp[v_di] := v_dp[v_di] + ledger_posted_delta(r.kind, v_amount);
            v_dpend[v_di] := v_dpend[v_di] + ledger_pending_delta(r.kind, v_amount, v_pending.amount_minor);
          end if;
          if v_ci is not null then
            v_cp[v_ci] := v_cp[v_ci] + ledger_posted_delta(r.kind, v_amount);
            v_cpend[v_ci] := v_cpend[v_ci] + ledger_pending_delta(r.kind, v_amount, v_pending.amount_minor);
          end if;
          -- Positional: the columns of ledger_transfers, in order.
          v_rows[r.ord] := row(r.id, r.kind, coalesce(r.debit_account_id, v_pending.debit_account_id),
            coalesce(r.credit_account_id, v_pending.credit_account_id), v_amount, coalesce(r.currency, v_pending.currency),
            coalesce(r.code, v_pending.code), r.pending_id, r.timeout_at, r.metadata, v_now)::ledger_transfers;
          v_didx[r.ord] := v_di;
          v_cidx[r.ord] := v_ci;
          v_created := v_created + 1;
          if r.pending_id is not null then
            v_resolutions := v_resolutions + 1;
          end if;
        end if;
      end if;

      v_status[r.ord] := v_result;
      if p_linked and v_result not in ('created', 'exists') then
        v_failed := true;
        v_fail_ord := r.ord;
        exit;
      end if;
    end loop;

    -- Phase 4. unnest expands each ledger_transfers element into its columns, after
    -- status. A concurrent call may have committed one of these ids, or resolved one of
    -- these pendings, since phase 2 read (only when no constrained account serialised
    -- the two): then this call fails with serialization_failure and a retry answers.
    if not v_failed then
      insert into ledger_transfers
      select u.id, u.kind, u.debit_account_id, u.credit_account_id, u.amount_minor, u.currency, u.code,
             u.pending_id, u.timeout_at, u.metadata, u.created_at
        from unnest(v_status, v_rows) as u(status)
       where u.status = 'created'
      on conflict (id) do nothing;
      get diagnostics v_written = row_count;
      if v_written < v_created then
        raise exception 'ledger: a transfer of this batch was created concurrently' using errcode = 'serialization_failure';
      end if;

      if v_resolutions > 0 then
        insert into ledger_pending_resolutions (pending_id, transfer_id, outcome, created_at)
        select u.pending_id, u.id,
               case u.kind when 'post_pending' then 'posted' when 'void_pending' then 'voided' else 'expired' end,
               v_now
          from unnest(v_status, v_rows) as u(status)
         where u.status = 'created' and u.pending_id is not null
        on conflict (pending_id) do nothing;
        get diagnostics v_written = row_count;
        if v_written < v_resolutions then
          raise exception 'ledger: a pending of this batch was resolved concurrently' using errcode = 'serialization_failure';
        end if;
      end if;

      if cardinality(v_acc_id) > 0 then
        update ledger_accounts a
           set debits_posted = u.dp, debits_pending = u.dpend, credits_posted = u.cp, credits_pending = u.cpend
          from unnest(v_acc_id, v_dp, v_dpend, v_cp, v_cpend) as u(id, dp, dpend, cp, cpend)
         where a.id = any (v_acc_id) and a.id = u.id
           and (a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending)
               is distinct from (u.dp, u.dpend, u.cp, u.cpend);
      end if;
    end if;

    -- Phase 5. A failed linked batch reports its failure and nothing else.
    if v_failed then
      v_result := v_status[v_fail_ord];
      v_status := array_fill('linked_event_failed'::text, array[v_n]);
      v_status[v_fail_ord] := v_result;
      v_rows := array_fill(null::ledger_transfers, array[v_n]);
    end if;
    return query select v_status[g.i], v_rows[g.i] from generate_series(1, v_n) as g(i);
  end
  $fn$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(DOMAINS);
  await knex.raw(ACCOUNTS);
  await knex.raw(TRANSFERS);
  await knex.raw(RESOLUTIONS);
  for (const index of INDEXES) await knex.raw(index);
  await knex.raw(GUARDS);
  await knex.raw(ACCOUNT_SHAPE);
  await knex.raw(WELL_FORMED);
  await knex.raw(MATCHES);
  await knex.raw(DECIDE);
  await knex.raw(MOVES);
  await knex.raw(CREATE_TRANSFER);
  await knex.raw(FACTS);
  await knex.raw(CREATE_TRANSFERS);
}

export async function down(knex: Knex): Promise<void> {
  for (const fn of [
    'ledger_create_transfers(jsonb, boolean)',
    'ledger_transfer_facts(jsonb, uuid[])',
    'ledger_create_transfer(jsonb)',
    'ledger_pending_delta(text, bigint, bigint)',
    'ledger_posted_delta(text, bigint)',
    'ledger_decide',
    'ledger_transfer_matches',
    'ledger_malformed(int)',
    'ledger_well_formed',
  ]) {
    await knex.raw(`drop function if exists ${fn}`);
  }
  await knex.raw('drop table if exists ledger_pending_resolutions, ledger_transfers, ledger_accounts');
  await knex.raw('drop function if exists ledger_forbid_edits()');
  await knex.raw('drop function if exists ledger_check_account_shape()');
  await knex.raw('drop type if exists ledger_transfer_input');
  await knex.raw(
    'drop domain if exists ledger_currency, ledger_code, ledger_account_type, ledger_system_role, ledger_balance_rule, ledger_transfer_kind, ledger_amount, ledger_total, ledger_metadata',
  );
}

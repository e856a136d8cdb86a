import type { Knex } from 'knex';

/**
 * The double-entry ledger (docs/ledger.md): accounts with running totals, insert-only
 * transfers, the pending-resolution claim table, and `ledger_create_transfers`, the
 * PL/pgSQL engine through which every transfer is written in one round trip.
 */

const ACCOUNTS = `
  create table ledger_accounts (
    id uuid primary key,
    -- Set null when the owner is erased: the ledger history stays, anonymised.
    owner_user_id uuid references users (id) on delete set null,
    system_role text check (system_role in ('funding_clearing', 'biller_settlement', 'fee_revenue', 'cashback_expense')),
    type text not null check (type in ('wallet', 'savings', 'credit_card', 'cashback', 'system')),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    rule text not null generated always as (
      case type when 'system' then 'none' when 'credit_card' then 'debits_within_limit' else 'debits_within_credits' end
    ) stored,
    credit_limit_minor bigint not null default 0 check (credit_limit_minor >= 0),
    debits_pending bigint not null default 0 check (debits_pending >= 0),
    debits_posted bigint not null default 0 check (debits_posted >= 0),
    credits_pending bigint not null default 0 check (credits_pending >= 0),
    credits_posted bigint not null default 0 check (credits_posted >= 0),
    created_at timestamptz not null default now(),
    constraint ledger_accounts_system_role check ((type = 'system') = (system_role is not null)),
    constraint ledger_accounts_system_unowned check (type <> 'system' or owner_user_id is null),
    constraint ledger_accounts_limit_only_for_cards check (type = 'credit_card' or credit_limit_minor = 0),
    -- System balances are sums over their transfers; their row never holds totals.
    constraint ledger_accounts_system_no_totals check (
      type <> 'system' or (debits_pending = 0 and debits_posted = 0 and credits_pending = 0 and credits_posted = 0)
    ),
    -- The balance rule, as a last line of defence behind the engine's own check. Written
    -- as differences so that no sum of two totals can overflow bigint.
    constraint ledger_accounts_rule check (
      debits_posted - credit_limit_minor <= credits_posted - debits_pending
    )
  ) with (fillfactor = 80)`;

const TRANSFERS = `
  create table ledger_transfers (
    id uuid primary key,
    kind text not null check (kind in ('posted', 'pending', 'post_pending', 'void_pending', 'expire_pending')),
    debit_account_id uuid not null references ledger_accounts (id),
    credit_account_id uuid not null references ledger_accounts (id),
    amount_minor bigint not null check (amount_minor > 0),
    currency text not null check (currency ~ '^[A-Z]{3}$'),
    code text not null check (code ~ '^[a-z][a-z0-9_]{0,63}$'),
    pending_id uuid references ledger_transfers (id),
    timeout_at timestamptz,
    metadata jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
    created_at timestamptz not null default now(),
    constraint ledger_transfers_accounts_differ check (debit_account_id <> credit_account_id),
    constraint ledger_transfers_pending_id check ((pending_id is not null) = (kind in ('post_pending', 'void_pending', 'expire_pending'))),
    constraint ledger_transfers_timeout check (timeout_at is null or kind = 'pending')
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
 * Whether a stored transfer (s_*) is the one an input (i_*) asks for. Inputs that
 * resolve a pending leave accounts, currency and code null (they are the pending's), and
 * a post_pending may leave its amount null (the whole hold); null matches what is stored.
 */
const MATCHES = `
  create function ledger_transfer_matches(
    s_kind text, s_debit uuid, s_credit uuid, s_amount bigint, s_currency text, s_code text,
    s_pending uuid, s_timeout timestamptz, s_metadata jsonb,
    i_kind text, i_debit uuid, i_credit uuid, i_amount numeric, i_currency text, i_code text,
    i_pending uuid, i_timeout timestamptz, i_metadata jsonb
  ) returns boolean language sql immutable parallel safe as $$
    select s_kind = i_kind
       and s_debit = coalesce(i_debit, s_debit)
       and s_credit = coalesce(i_credit, s_credit)
       and s_amount = coalesce(i_amount, s_amount)
       and s_currency = coalesce(i_currency, s_currency)
       and s_code = coalesce(i_code, s_code)
       and s_pending is not distinct from i_pending
       and s_timeout is not distinct from i_timeout
       and s_metadata = i_metadata
  $$`;

/**
 * The engine. Phases, each one statement unless noted:
 *  1. Lock the constrained accounts the batch touches (its own accounts and those of the
 *     pendings it resolves), in id order so concurrent calls never deadlock. System
 *     accounts (rule none) are neither locked nor updated.
 *  2. Read everything else the checks need (existing ids, pendings, resolutions, account
 *     currencies) in one query, after the locks, so it sees every committed transfer
 *     that touched those accounts.
 *  3. Decide each transfer in order against running totals held in arrays (no SQL).
 *  4. Insert transfers and resolutions, update the totals of changed accounts.
 * Phases 2-4 retry when a concurrent call commits the same transfer id or resolves the
 * same pending first: only possible when no constrained account serialised the two
 * calls (system-to-system transfers), and the retry then sees the winner's rows.
 */
const ENGINE = `
  create function ledger_create_transfers(p_transfers jsonb, p_linked boolean)
  returns table (
    result text, id uuid, kind text, debit_account_id uuid, credit_account_id uuid, amount_minor bigint,
    currency text, code text, pending_id uuid, timeout_at timestamptz, metadata jsonb, created_at timestamptz
  )
  language plpgsql
  as $fn$
  #variable_conflict use_column
  declare
    c_max constant bigint := 9223372036854775807;
    v_n constant int := jsonb_array_length(p_transfers);
    -- Locked accounts, by position: rule, limit, totals at lock time, running totals.
    v_acc_id uuid[];
    v_acc_rule text[];
    v_acc_limit bigint[];
    v_dp0 bigint[]; v_dpend0 bigint[]; v_cp0 bigint[]; v_cpend0 bigint[];
    v_dp bigint[]; v_dpend bigint[]; v_cp bigint[]; v_cpend bigint[];
    -- Per input transfer, by ordinal: the outcome and, once created, the stored fields.
    v_status text[];
    v_id uuid[]; v_kind text[]; v_debit uuid[]; v_credit uuid[]; v_amount bigint[];
    v_currency text[]; v_code text[]; v_pending uuid[]; v_timeout timestamptz[]; v_metadata jsonb[];
    v_didx int[]; v_cidx int[];
    v_now timestamptz;
    v_failed boolean;
    v_fail_ord int;
    v_resolutions int;
    v_attempt int := 0;
    r record;
    o int;
    v_result text;
    v_amt bigint;
    v_pamt bigint;
    v_po int;
    v_di int; v_ci int;
    v_d uuid; v_c uuid; v_cur text; v_cd text; v_ptimeout timestamptz;
    v_resolved boolean;
  begin
    if v_n = 0 then
      return;
    end if;

    -- Phase 1.
    select coalesce(array_agg(a.id order by a.id), '{}'), array_agg(a.rule order by a.id), array_agg(a.credit_limit_minor order by a.id),
           array_agg(a.debits_posted order by a.id), array_agg(a.debits_pending order by a.id),
           array_agg(a.credits_posted order by a.id), array_agg(a.credits_pending order by a.id)
      into v_acc_id, v_acc_rule, v_acc_limit, v_dp0, v_dpend0, v_cp0, v_cpend0
      from (
        select a.id, a.rule, a.credit_limit_minor, a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending
          from ledger_accounts a
         where a.rule <> 'none'
           and a.id in (
             select unnest(array[x.debit_account_id, x.credit_account_id, p.debit_account_id, p.credit_account_id])
               from jsonb_to_recordset(p_transfers) as x(debit_account_id uuid, credit_account_id uuid, pending_id uuid)
               left join ledger_transfers p on p.id = x.pending_id
           )
         order by a.id
         for no key update
      ) a;
    -- Taken after the locks, so per constrained account created_at follows the order in
    -- which transfers were applied.
    v_now := clock_timestamp();

    <<attempt>>
    loop
      begin
        v_dp := v_dp0; v_dpend := v_dpend0; v_cp := v_cp0; v_cpend := v_cpend0;
        -- Every per-transfer array spans [1:n], so a multi-array unnest keeps them aligned.
        v_status := array_fill(null::text, array[v_n]); v_id := array_fill(null::uuid, array[v_n]);
        v_kind := v_status; v_currency := v_status; v_code := v_status;
        v_debit := v_id; v_credit := v_id; v_pending := v_id;
        v_amount := array_fill(null::bigint, array[v_n]); v_timeout := array_fill(null::timestamptz, array[v_n]);
        v_metadata := array_fill(null::jsonb, array[v_n]);
        v_didx := array_fill(null::int, array[v_n]); v_cidx := v_didx;
        v_failed := false;
        v_resolutions := 0;

        -- Phase 2.
        for r in
          with input as (
            select x.ord::int as ord, x.id, x.kind,
                   case when x.kind in ('posted', 'pending') then x.debit_account_id end as debit_account_id,
                   case when x.kind in ('posted', 'pending') then x.credit_account_id end as credit_account_id,
                   x.amount_minor,
                   case when x.kind in ('posted', 'pending') then x.currency end as currency,
                   case when x.kind in ('posted', 'pending') then x.code end as code,
                   x.pending_id, x.timeout_at, coalesce(x.metadata, '{}') as metadata,
                   coalesce(x.id is not null
                     and coalesce(x.amount_minor = trunc(x.amount_minor), true)
                     and jsonb_typeof(coalesce(x.metadata, '{}')) = 'object'
                     and case
                       when x.kind in ('posted', 'pending') then
                         x.debit_account_id is not null and x.credit_account_id is not null and x.amount_minor is not null
                         and x.currency is not null and x.code ~ '^[a-z][a-z0-9_]{0,63}$' and x.pending_id is null
                         and (x.timeout_at is null or x.kind = 'pending')
                       when x.kind = 'post_pending' then x.pending_id is not null and x.timeout_at is null
                       when x.kind in ('void_pending', 'expire_pending') then
                         x.pending_id is not null and x.timeout_at is null and x.amount_minor is null
                       else false
                     end, false) as well_formed
              from rows from (
                jsonb_to_recordset(p_transfers) as (
                  id uuid, kind text, debit_account_id uuid, credit_account_id uuid, amount_minor numeric,
                  currency text, code text, pending_id uuid, timeout_at timestamptz, metadata jsonb)
              ) with ordinality as x(id, kind, debit_account_id, credit_account_id, amount_minor, currency, code,
                                     pending_id, timeout_at, metadata, ord)
          ),
          by_id as (select i.id, array_agg(i.ord order by i.ord) as ords from input i group by i.id),
          by_pending as (
            select i.pending_id, array_agg(i.ord order by i.ord) as ords from input i where i.pending_id is not null group by i.pending_id
          ),
          locked as (select l.id, l.idx::int as idx from unnest(v_acc_id) with ordinality as l(id, idx))
          select i.*,
                 e.id is not null as e_found,
                 e.id is not null and ledger_transfer_matches(
                   e.kind, e.debit_account_id, e.credit_account_id, e.amount_minor, e.currency, e.code, e.pending_id, e.timeout_at, e.metadata,
                   i.kind, i.debit_account_id, i.credit_account_id, i.amount_minor, i.currency, i.code, i.pending_id, i.timeout_at, i.metadata
                 ) as e_same,
                 sid.ords as same_id_ords,
                 pid.ords as pending_ords,
                 spd.ords as same_pending_ords,
                 p.kind is not distinct from 'pending' as p_found,
                 p.debit_account_id as p_debit, p.credit_account_id as p_credit, p.amount_minor as p_amount,
                 p.currency as p_currency, p.code as p_code, p.timeout_at as p_timeout,
                 res.pending_id is not null as p_resolved,
                 da.id is not null as d_found, da.currency as d_currency,
                 ca.id is not null as c_found, ca.currency as c_currency,
                 dl.idx as d_idx, cl.idx as c_idx
            from input i
            left join by_id sid on sid.id = i.id
            left join by_id pid on pid.id = i.pending_id
            left join by_pending spd on spd.pending_id = i.pending_id
            left join ledger_transfers e on e.id = i.id
            left join ledger_transfers p on p.id = i.pending_id
            left join ledger_pending_resolutions res on res.pending_id = i.pending_id
            left join ledger_accounts da on da.id = i.debit_account_id
            left join ledger_accounts ca on ca.id = i.credit_account_id
            left join locked dl on dl.id = coalesce(i.debit_account_id, p.debit_account_id)
            left join locked cl on cl.id = coalesce(i.credit_account_id, p.credit_account_id)
           order by i.ord
        loop
          if not r.well_formed then
            raise exception 'ledger_create_transfers: transfer % is malformed', r.ord using errcode = 'invalid_parameter_value';
          end if;
          v_id[r.ord] := r.id;

          -- Phase 3: the checks, in the order docs/ledger.md lists them.
          <<decide>>
          begin
            if r.e_found then
              v_result := case when r.e_same then 'exists' else 'exists_with_different_fields' end;
              exit decide;
            end if;
            if cardinality(r.same_id_ords) > 1 then
              foreach o in array r.same_id_ords loop
                exit when o >= r.ord;
                if v_status[o] = 'created' then
                  v_result := case when ledger_transfer_matches(
                      v_kind[o], v_debit[o], v_credit[o], v_amount[o], v_currency[o], v_code[o], v_pending[o], v_timeout[o], v_metadata[o],
                      r.kind, r.debit_account_id, r.credit_account_id, r.amount_minor, r.currency, r.code, r.pending_id, r.timeout_at, r.metadata)
                    then 'exists' else 'exists_with_different_fields' end;
                  exit decide;
                end if;
              end loop;
            end if;
            if r.amount_minor <= 0 then
              v_result := 'amount_must_be_positive';
              exit decide;
            end if;
            if r.amount_minor > c_max then
              v_result := 'amount_too_large';
              exit decide;
            end if;
            v_amt := r.amount_minor;

            if r.kind in ('posted', 'pending') then
              if r.debit_account_id = r.credit_account_id then
                v_result := 'accounts_must_differ';
                exit decide;
              end if;
              if not (r.d_found and r.c_found) then
                v_result := 'account_not_found';
                exit decide;
              end if;
              if r.d_currency <> r.currency or r.c_currency <> r.currency then
                v_result := 'currency_mismatch';
                exit decide;
              end if;
              v_di := r.d_idx; v_ci := r.c_idx;
              v_d := r.debit_account_id; v_c := r.credit_account_id; v_cur := r.currency; v_cd := r.code;
              -- amount ≤ credits posted − debits posted − debits pending (+ limit).
              if v_di is not null and v_amt - v_acc_limit[v_di] > v_cp[v_di] - v_dp[v_di] - v_dpend[v_di] then
                v_result := case v_acc_rule[v_di] when 'debits_within_limit' then 'exceeds_credit_limit' else 'insufficient_funds' end;
                exit decide;
              end if;
              if r.kind = 'posted' then
                if (v_di is not null and v_dp[v_di] > c_max - v_amt) or (v_ci is not null and v_cp[v_ci] > c_max - v_amt) then
                  v_result := 'amount_too_large';
                  exit decide;
                end if;
                if v_di is not null then v_dp[v_di] := v_dp[v_di] + v_amt; end if;
                if v_ci is not null then v_cp[v_ci] := v_cp[v_ci] + v_amt; end if;
              else
                if (v_di is not null and v_dpend[v_di] > c_max - v_amt) or (v_ci is not null and v_cpend[v_ci] > c_max - v_amt) then
                  v_result := 'amount_too_large';
                  exit decide;
                end if;
                if v_di is not null then v_dpend[v_di] := v_dpend[v_di] + v_amt; end if;
                if v_ci is not null then v_cpend[v_ci] := v_cpend[v_ci] + v_amt; end if;
              end if;
            else
              -- A resolution: find the pending, in the database or earlier in this batch.
              if r.p_found then
                v_pamt := r.p_amount; v_ptimeout := r.p_timeout; v_resolved := r.p_resolved;
                v_di := r.d_idx; v_ci := r.c_idx;
                v_d := r.p_debit; v_c := r.p_credit; v_cur := r.p_currency; v_cd := r.p_code;
              else
                v_po := null;
                if r.pending_ords is not null then
                  foreach o in array r.pending_ords loop
                    exit when o >= r.ord;
                    if v_status[o] = 'created' and v_kind[o] = 'pending' then
                      v_po := o;
                    end if;
                  end loop;
                end if;
                if v_po is null then
                  v_result := 'pending_not_found';
                  exit decide;
                end if;
                v_pamt := v_amount[v_po]; v_ptimeout := v_timeout[v_po]; v_resolved := false;
                v_di := v_didx[v_po]; v_ci := v_cidx[v_po];
                v_d := v_debit[v_po]; v_c := v_credit[v_po]; v_cur := v_currency[v_po]; v_cd := v_code[v_po];
              end if;
              if not v_resolved and cardinality(r.same_pending_ords) > 1 then
                foreach o in array r.same_pending_ords loop
                  exit when o >= r.ord;
                  if v_status[o] = 'created' then
                    v_resolved := true;
                  end if;
                end loop;
              end if;
              if v_resolved then
                v_result := 'pending_already_resolved';
                exit decide;
              end if;
              if r.kind = 'expire_pending' then
                if v_ptimeout is null or v_ptimeout > v_now then
                  v_result := 'pending_not_expired';
                  exit decide;
                end if;
              elsif v_ptimeout is not null and v_ptimeout <= v_now then
                v_result := 'pending_expired';
                exit decide;
              end if;
              if r.kind = 'post_pending' then
                v_amt := coalesce(v_amt, v_pamt);
                if v_amt > v_pamt then
                  v_result := 'amount_exceeds_pending';
                  exit decide;
                end if;
                if (v_di is not null and v_dp[v_di] > c_max - v_amt) or (v_ci is not null and v_cp[v_ci] > c_max - v_amt) then
                  v_result := 'amount_too_large';
                  exit decide;
                end if;
                if v_di is not null then
                  v_dpend[v_di] := v_dpend[v_di] - v_pamt;
                  v_dp[v_di] := v_dp[v_di] + v_amt;
                end if;
                if v_ci is not null then
                  v_cpend[v_ci] := v_cpend[v_ci] - v_pamt;
                  v_cp[v_ci] := v_cp[v_ci] + v_amt;
                end if;
              else
                v_amt := v_pamt;
                if v_di is not null then v_dpend[v_di] := v_dpend[v_di] - v_pamt; end if;
                if v_ci is not null then v_cpend[v_ci] := v_cpend[v_ci] - v_pamt; end if;
              end if;
              v_resolutions := v_resolutions + 1;
            end if;

            v_result := 'created';
            v_kind[r.ord] := r.kind; v_debit[r.ord] := v_d; v_credit[r.ord] := v_c; v_amount[r.ord] := v_amt;
            v_currency[r.ord] := v_cur; v_code[r.ord] := v_cd; v_pending[r.ord] := r.pending_id;
            v_timeout[r.ord] := r.timeout_at; v_metadata[r.ord] := r.metadata;
            v_didx[r.ord] := v_di; v_cidx[r.ord] := v_ci;
          end decide;

          v_status[r.ord] := v_result;
          if p_linked and v_result not in ('created', 'exists') then
            v_failed := true;
            v_fail_ord := r.ord;
            exit;
          end if;
        end loop;

        -- Phase 4. Rows go in id order, so two calls waiting on each other's unique keys
        -- always wait in the same direction.
        if not v_failed then
          insert into ledger_transfers (id, kind, debit_account_id, credit_account_id, amount_minor, currency, code,
                                        pending_id, timeout_at, metadata, created_at)
          select u.id, u.kind, u.debit, u.credit, u.amount, u.currency, u.code, u.pending, u.timeout, u.metadata, v_now
            from unnest(v_status, v_id, v_kind, v_debit, v_credit, v_amount, v_currency, v_code, v_pending, v_timeout, v_metadata)
                 as u(status, id, kind, debit, credit, amount, currency, code, pending, timeout, metadata)
           where u.status = 'created'
           order by u.id;

          if v_resolutions > 0 then
            insert into ledger_pending_resolutions (pending_id, transfer_id, outcome, created_at)
            select u.pending, u.id,
                   case u.kind when 'post_pending' then 'posted' when 'void_pending' then 'voided' else 'expired' end,
                   v_now
              from unnest(v_status, v_id, v_kind, v_pending) as u(status, id, kind, pending)
             where u.status = 'created' and u.pending is not null
             order by u.pending;
          end if;

          if cardinality(v_acc_id) > 0 then
            update ledger_accounts a
               set debits_posted = u.dp, debits_pending = u.dpend, credits_posted = u.cp, credits_pending = u.cpend
              from unnest(v_acc_id, v_dp, v_dpend, v_cp, v_cpend) as u(id, dp, dpend, cp, cpend)
             where a.id = u.id
               and (a.debits_posted, a.debits_pending, a.credits_posted, a.credits_pending)
                   is distinct from (u.dp, u.dpend, u.cp, u.cpend);
          end if;
        end if;
        exit attempt;
      exception when unique_violation then
        -- A concurrent call committed one of these ids or resolutions after phase 2 read.
        v_attempt := v_attempt + 1;
        if v_attempt >= 3 then
          raise;
        end if;
      end;
    end loop;

    return query
      select case
               when not v_failed then v_status[g.ord]
               when g.ord = v_fail_ord then v_status[g.ord]
               else 'linked_event_failed'
             end,
             t.id, t.kind, t.debit_account_id, t.credit_account_id, t.amount_minor, t.currency, t.code,
             t.pending_id, t.timeout_at, t.metadata, t.created_at
        from generate_series(1, v_n) as g(ord)
        left join ledger_transfers t
          on not v_failed and v_status[g.ord] in ('created', 'exists') and t.id = v_id[g.ord]
       order by g.ord;
  end
  $fn$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(ACCOUNTS);
  await knex.raw(TRANSFERS);
  await knex.raw(RESOLUTIONS);
  for (const index of INDEXES) await knex.raw(index);
  await knex.raw(GUARDS);
  await knex.raw(MATCHES);
  await knex.raw(ENGINE);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists ledger_create_transfers(jsonb, boolean)');
  await knex.raw('drop function if exists ledger_transfer_matches');
  await knex.raw('drop table if exists ledger_pending_resolutions, ledger_transfers, ledger_accounts');
  await knex.raw('drop function if exists ledger_forbid_edits()');
}

import type { Knex } from 'knex';

/**
 * One transfer for the cost of little more than its writes (docs/ledger.md, "The
 * engine"): `ledger_apply_transfer` takes the transfer as typed arguments, so nothing
 * is parsed from a JSON document, and applies a posted or pending transfer
 * optimistically:
 *  1. Probe the id (idempotency) and read both accounts without locking them; decide
 *     with the same rules as the locking engine (ledger_decide). A failure is answered
 *     from this read, which is a committed state of the accounts: no write happens.
 *  2. Update the constrained accounts in id order (so concurrent calls never deadlock),
 *     each UPDATE checking again, under the row lock it takes, that the rule still
 *     holds. The UPDATE is the lock: no separate SELECT … FOR NO KEY UPDATE, which
 *     wrote a lock record per account and cost as much as the update itself.
 *     System accounts (rule none) are neither locked nor updated.
 *  3. Take created_at now (after the locks, so per constrained account created_at
 *     follows the order of application) and insert the transfer.
 * When a concurrent call changed the facts between 1 and 2 (its debit drained the
 * account) or committed the same id before 3, the function undoes its own updates and
 * hands the transfer to the locking engine, `ledger_create_transfer(jsonb)`, which
 * decides under the locks as before. Resolutions (post, void, expire) and malformed
 * input go to that engine directly: it raises the same errors and keeps one
 * implementation of the pending lifecycle.
 */
/** The locking engine's input document for a transfer given as arguments (null reads as absent). */
const DOCUMENT = `
  create function ledger_transfer_document(
    p_id uuid, p_kind text, p_debit uuid, p_credit uuid, p_amount numeric, p_currency text, p_code text,
    p_pending uuid, p_timeout timestamptz, p_metadata jsonb
  ) returns jsonb language sql stable parallel safe as $$
    select jsonb_build_object(
      'id', p_id, 'kind', p_kind, 'debit_account_id', p_debit, 'credit_account_id', p_credit, 'amount_minor', p_amount,
      'currency', p_currency, 'code', p_code, 'pending_id', p_pending, 'timeout_at', p_timeout, 'metadata', p_metadata)
  $$`;

const APPLY_TRANSFER = `
  create function ledger_apply_transfer(
    p_id uuid, p_kind text, p_debit uuid, p_credit uuid, p_amount numeric, p_currency text, p_code text,
    p_pending uuid, p_timeout timestamptz, p_metadata jsonb
  )
  returns table (result text, transfer ledger_transfers)
  language plpgsql
  as $fn$
  declare
    v_row ledger_transfers;
    d ledger_accounts;
    c ledger_accounts;
    v_posted bigint;
    v_pending bigint;
    v_account uuid;
    v_updated uuid[] := '{}';
    v_raced boolean := false;
  begin
    if p_kind not in ('posted', 'pending')
       or not ledger_well_formed(p_kind, p_id, p_debit, p_credit, p_amount, p_currency, p_code, p_pending, p_timeout, p_metadata) then
      return query select * from ledger_create_transfer(ledger_transfer_document(
        p_id, p_kind, p_debit, p_credit, p_amount, p_currency, p_code, p_pending, p_timeout, p_metadata));
      return;
    end if;

    -- 1. The id applied before?
    select e.* into v_row from ledger_transfers e where e.id = p_id;
    if v_row.id is not null then
      result := case when ledger_transfer_matches(v_row, p_kind, p_debit, p_credit, p_amount, p_currency, p_code, p_pending,
                                                  p_timeout, p_metadata) then 'exists' else 'exists_with_different_fields' end;
      transfer := case when result = 'exists' then v_row end;
      return next;
      return;
    end if;
    select a.* into d from ledger_accounts a where a.id = p_debit;
    select a.* into c from ledger_accounts a where a.id = p_credit;
    -- An unconstrained account's totals are not kept (null: no rule concerns it).
    result := ledger_decide(p_kind, p_amount, p_debit, p_credit, p_currency,
      d.id is not null, d.currency, c.id is not null, c.currency, null, null, null,
      nullif(d.rule, 'none'),
      case when d.rule <> 'none' then d.credit_limit_minor end,
      case when d.rule <> 'none' then d.debits_posted end,
      case when d.rule <> 'none' then d.debits_pending end,
      case when d.rule <> 'none' then d.credits_posted end,
      case when c.rule <> 'none' then c.credits_posted end,
      case when c.rule <> 'none' then c.credits_pending end);
    if result <> 'created' then
      return next;
      return;
    end if;

    -- 2. The rule and the overflow checks again, under each row's lock.
    v_posted := case when p_kind = 'posted' then p_amount else 0 end;
    v_pending := case when p_kind = 'pending' then p_amount else 0 end;
    foreach v_account in array case when p_debit < p_credit then array[p_debit, p_credit] else array[p_credit, p_debit] end loop
      continue when (case when v_account = p_debit then d.rule else c.rule end) = 'none';
      update ledger_accounts a
         set debits_posted = a.debits_posted + case when a.id = p_debit then v_posted else 0 end,
             debits_pending = a.debits_pending + case when a.id = p_debit then v_pending else 0 end,
             credits_posted = a.credits_posted + case when a.id = p_credit then v_posted else 0 end,
             credits_pending = a.credits_pending + case when a.id = p_credit then v_pending else 0 end
       where a.id = v_account
         and case when a.id = p_debit
               then p_amount - a.credit_limit_minor <= a.credits_posted - a.debits_posted - a.debits_pending
                    and a.debits_posted <= 9223372036854775807 - v_posted
                    and a.debits_pending <= 9223372036854775807 - v_pending
               else a.credits_posted <= 9223372036854775807 - v_posted
                    and a.credits_pending <= 9223372036854775807 - v_pending
             end;
      if not found then
        v_raced := true;
        exit;
      end if;
      v_updated := v_updated || v_account;
    end loop;

    -- 3.
    if not v_raced then
      insert into ledger_transfers (id, kind, debit_account_id, credit_account_id, amount_minor, currency, code, timeout_at, metadata, created_at)
      values (p_id, p_kind, p_debit, p_credit, p_amount, p_currency, p_code, p_timeout, coalesce(p_metadata, '{}'), clock_timestamp())
      on conflict (id) do nothing
      returning * into v_row;
      v_raced := v_row.id is null;
    end if;

    if v_raced then
      update ledger_accounts a
         set debits_posted = a.debits_posted - case when a.id = p_debit then v_posted else 0 end,
             debits_pending = a.debits_pending - case when a.id = p_debit then v_pending else 0 end,
             credits_posted = a.credits_posted - case when a.id = p_credit then v_posted else 0 end,
             credits_pending = a.credits_pending - case when a.id = p_credit then v_pending else 0 end
       where a.id = any (v_updated);
      return query select * from ledger_create_transfer(ledger_transfer_document(
        p_id, p_kind, p_debit, p_credit, p_amount, p_currency, p_code, p_pending, p_timeout, p_metadata));
      return;
    end if;
    transfer := v_row;
    return next;
  end
  $fn$`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(DOCUMENT);
  await knex.raw(APPLY_TRANSFER);
}

export async function down(knex: Knex): Promise<void> {
  const args = '(uuid, text, uuid, uuid, numeric, text, text, uuid, timestamptz, jsonb)';
  await knex.raw(`drop function if exists ledger_apply_transfer${args}`);
  await knex.raw(`drop function if exists ledger_transfer_document${args}`);
}

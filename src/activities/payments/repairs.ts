import type { Db } from '../../db/knex';
import { recordStep, setPaymentAmounts } from '../../payments/repository';
import { businessFailureOf } from '../../temporal/failures';
import { createCashbackActivities, type CreditCashbackInput, type CreditReferralBonusInput } from './cashback';

/**
 * Repairs of payments that went forward (docs/payments.md, "Forward only"): a cashback
 * or referral bonus that failed for good after the biller accepted is queued in
 * `payment_repairs` by the saga; the repair Schedule retries each until it is credited.
 * The credit activities are idempotent by their transfer key, so a repair that was in
 * fact credited before (or is retried after a crash) grants nothing twice.
 */

const REPAIR_BATCH = 100;

interface RepairRow {
  id: string;
  payment_id: string;
  credit: 'cashback' | 'referral_bonus';
  input: Record<string, unknown>;
}

export function createRepairActivities({ db, now }: { db: Db; now: () => Date }) {
  const credits = createCashbackActivities({ db, now });

  /** Runs one repair; answers the cashback credited (for the payment's row), or null for a bonus. */
  async function credit(row: RepairRow): Promise<string | null> {
    if (row.credit === 'cashback') return (await credits.creditCashback(row.input as unknown as CreditCashbackInput)).cashbackMinor;
    await credits.creditReferralBonus(row.input as unknown as CreditReferralBonusInput);
    return null;
  }

  return {
    /**
     * Retries every pending repair once, oldest first. A repair that succeeds is marked
     * done and its payment's cashback step succeeded; one that fails again keeps its
     * place with the new reason and an attempt more, for the next run.
     */
    async retryPaymentRepairs(): Promise<{ repaired: number; failed: number }> {
      const rows = (await db('payment_repairs').where({ status: 'pending' }).orderBy('created_at').limit(REPAIR_BATCH)) as RepairRow[];
      let repaired = 0;
      for (const row of rows) {
        try {
          const cashbackMinor = await credit(row);
          await db.transaction(async (trx) => {
            await trx('payment_repairs').where({ id: row.id }).update({ status: 'done', attempts: trx.raw('attempts + 1'), last_error: null, updated_at: trx.fn.now() });
            await recordStep(trx, { paymentId: row.payment_id, step: 'cashback', status: 'succeeded', reason: `${row.credit} credited by repair` });
          });
          if (cashbackMinor !== null) await setPaymentAmounts(db, row.payment_id, { cashbackMinor });
          repaired += 1;
        } catch (err) {
          // A business refusal waits for the next run; anything else (the database gone) is Temporal's to retry.
          const failure = businessFailureOf(err);
          if (!failure) throw err;
          await db('payment_repairs')
            .where({ id: row.id })
            .update({ attempts: db.raw('attempts + 1'), last_error: `${failure.type}: ${failure.message}`, updated_at: db.fn.now() });
        }
      }
      return { repaired, failed: rows.length - repaired };
    },
  };
}

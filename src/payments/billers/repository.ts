import type { Db } from '../../db/knex';
import type { Biller, BillerCategory } from './port';

/** Reads of the biller catalogue and of the month-to-date cashback a quote needs. */

interface BillerRow {
  id: string;
  name: string;
  category: BillerCategory;
  currency: string;
  fee_fixed_minor: string;
  fee_rate_bps: number;
  min_amount_minor: string;
  max_amount_minor: string;
  customer_ref_pattern: string;
  customer_ref_example: string;
  cashback_rate_bps: number | null;
  active: boolean;
}

function toBiller(row: BillerRow): Biller {
  return {
    id: row.id,
    name: row.name,
    category: row.category,
    currency: row.currency,
    feeFixedMinor: BigInt(row.fee_fixed_minor),
    feeRateBps: row.fee_rate_bps,
    minAmountMinor: BigInt(row.min_amount_minor),
    maxAmountMinor: BigInt(row.max_amount_minor),
    customerRefPattern: row.customer_ref_pattern,
    customerRefExample: row.customer_ref_example,
    cashbackRateBps: row.cashback_rate_bps,
    active: row.active,
  };
}

/**
 * An active biller, or null. With `includeInactive`, also one since withdrawn from the
 * catalogue: a payment already made to it still earns its cashback.
 */
export async function getBiller(db: Db, id: string, options: { includeInactive?: boolean } = {}): Promise<Biller | null> {
  const query = db('billers').where({ id });
  if (!options.includeInactive) query.where({ active: true });
  const row = (await query.first()) as BillerRow | undefined;
  return row ? toBiller(row) : null;
}

/** Active billers ordered by id, after `afterId` when given, at most `limit`. */
export async function listBillers(db: Db, options: { category?: BillerCategory; afterId?: string; limit: number }): Promise<Biller[]> {
  const query = db('billers').where({ active: true });
  if (options.category) query.where({ category: options.category });
  if (options.afterId) query.where('id', '>', options.afterId);
  const rows = (await query.orderBy('id').limit(options.limit)) as BillerRow[];
  return rows.map(toBiller);
}

/** Cashback granted to the user in `month` ('YYYY-MM', UTC) and currency; 0 before the first grant. */
export async function cashbackGrantedInMonth(db: Db, userId: string, month: string, currency: string): Promise<bigint> {
  const row: { granted_minor: string } | undefined = await db('cashback_monthly').where({ user_id: userId, month, currency }).first('granted_minor');
  return row ? BigInt(row.granted_minor) : 0n;
}

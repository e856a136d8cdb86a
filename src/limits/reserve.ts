import type { Knex } from 'knex';
import type { Db } from '../db/knex';
import { LimitExceededError, limitFor, type LimitKind, type Limits } from './limits';

/**
 * Enforcement of the limits (docs/security.md, "Limits"). Each money request reserves
 * its amount in `limit_reservations` under its own id, inside the transaction that
 * claims or moves its money; the reservations of one customer, kind and currency are
 * serialised by a transaction-scoped advisory lock, so two concurrent requests cannot
 * both fit under what is left of the day. A request that ends without moving money
 * (declined, refused, cancelled) releases its reservation.
 */

export interface Reservation {
  /** The request's own id (funding, transfer or payment id): reserving twice counts once. */
  requestId: string;
  userId: string;
  kind: LimitKind;
  currency: string;
  amountMinor: bigint;
  /** When the request is made; its UTC day is the day it counts against. */
  at: Date;
}

/** Throws LimitExceededError when the amount breaks the per-transaction or the daily limit. */
export async function reserveLimit(trx: Knex.Transaction, limits: Limits | undefined, r: Reservation): Promise<void> {
  const limit = limitFor(limits, r.currency, r.kind);
  if (!limit) return;
  if (r.amountMinor > limit.perTransactionMinor) throw new LimitExceededError(r.kind, 'per_transaction', r.currency, limit.perTransactionMinor);
  await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`limit:${r.userId}:${r.kind}:${r.currency}`]);
  const existing = await trx('limit_reservations').where({ request_id: r.requestId }).first('request_id');
  if (existing) return;
  const day = r.at.toISOString().slice(0, 10);
  const row: { used: string | null } = await trx('limit_reservations')
    .where({ user_id: r.userId, kind: r.kind, currency: r.currency, day })
    .first(trx.raw('sum(amount_minor)::text as used'));
  const used = BigInt(row.used ?? '0');
  if (used + r.amountMinor > limit.dailyMinor) throw new LimitExceededError(r.kind, 'daily', r.currency, limit.dailyMinor);
  await trx('limit_reservations').insert({
    request_id: r.requestId,
    user_id: r.userId,
    kind: r.kind,
    currency: r.currency,
    day,
    amount_minor: r.amountMinor.toString(),
  });
}

/** Gives a request's amount back to the day's limit; idempotent. */
export async function releaseLimit(db: Db | Knex.Transaction, requestId: string): Promise<void> {
  await db('limit_reservations').where({ request_id: requestId }).delete();
}

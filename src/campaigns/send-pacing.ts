import type { Db } from '../db/knex';

/**
 * The per-sender send rate, shared by every worker through PostgreSQL. It is GCRA with
 * no burst: the bucket row keeps `next_at`, the earliest instant the sender's next
 * message may go. Reserving n messages moves `next_at` on by n / rate under the row
 * lock and hands the caller a slot whose i-th message is due at start + i / rate; no two
 * callers get overlapping slots, so sends made at their due times are never more than
 * `rate` in any one-second window, however many workers share the sender. The times are
 * the database's clock, handed back as a wait, so workers' clocks need not agree.
 */

export interface SendSlot {
  /** Milliseconds from now until the slot's first message is due. */
  waitMs: number;
  /** Milliseconds between two messages of the slot (1000 / rate). */
  spacingMs: number;
}

export async function reserveSendSlot(db: Db, sender: string, count: number, ratePerSecond: number): Promise<SendSlot> {
  const spanSeconds = count / ratePerSecond;
  const { rows } = await db.raw<{ rows: Array<{ wait_ms: string }> }>(
    `insert into campaign_send_buckets as b (sender, next_at)
       values (?, clock_timestamp() + make_interval(secs => ?))
     on conflict (sender) do update
       set next_at = greatest(b.next_at, clock_timestamp()) + make_interval(secs => ?)
     returning extract(epoch from (b.next_at - make_interval(secs => ?) - clock_timestamp())) * 1000 as wait_ms`,
    [sender, spanSeconds, spanSeconds, spanSeconds],
  );
  return { waitMs: Math.max(0, Number(rows[0]?.wait_ms ?? 0)), spacingMs: 1000 / ratePerSecond };
}

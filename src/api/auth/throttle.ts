import type { Knex } from 'knex';
import type { Config } from '../../config';

/**
 * Failed-login counters in PostgreSQL, so the limits hold across API processes. Each
 * key (`account:<email>`, `address:<ip>`) counts failures in a fixed window that starts
 * at its first failure; once the window has passed, the next failure starts a new one.
 */

type ThrottleConfig = Config['auth']['throttle'];

export interface ThrottleKey {
  key: string;
  maxFailures: number;
}

export function loginThrottleKeys(config: ThrottleConfig, email: string, address: string): ThrottleKey[] {
  return [
    { key: accountKey(email), maxFailures: config.maxFailuresPerAccount },
    { key: `address:${address}`, maxFailures: config.maxFailuresPerAddress },
  ];
}

export const accountKey = (email: string) => `account:${email}`;

/**
 * Seconds until every key is below its limit again, or undefined when none is at it.
 * Checked before the password, so a throttled caller learns nothing about it.
 */
export async function secondsUntilAllowed(db: Knex, keys: ThrottleKey[], windowSeconds: number, now: Date): Promise<number | undefined> {
  const rows: Array<{ key: string; failures: number; window_started_at: Date }> = await db('login_throttle')
    .whereIn(
      'key',
      keys.map((k) => k.key),
    )
    .select('key', 'failures', 'window_started_at');
  let waitSeconds: number | undefined;
  for (const row of rows) {
    const limit = keys.find((k) => k.key === row.key)?.maxFailures ?? Infinity;
    const remainingMs = row.window_started_at.getTime() + windowSeconds * 1000 - now.getTime();
    if (remainingMs > 0 && row.failures >= limit) {
      waitSeconds = Math.max(waitSeconds ?? 0, Math.ceil(remainingMs / 1000));
    }
  }
  return waitSeconds;
}

/** Counts one failure against every key in a single statement (one atomic upsert). */
export async function recordFailure(db: Knex, keys: ThrottleKey[], windowSeconds: number, now: Date): Promise<void> {
  const values = keys.map(() => '(?, 1, ?)').join(', ');
  const windowExpired = 'login_throttle.window_started_at <= excluded.window_started_at - ? * interval \'1 second\'';
  await db.raw(
    `insert into login_throttle (key, failures, window_started_at) values ${values}
     on conflict (key) do update set
       failures = case when ${windowExpired} then 1 else login_throttle.failures + 1 end,
       window_started_at = case when ${windowExpired} then excluded.window_started_at else login_throttle.window_started_at end`,
    [...keys.flatMap((k) => [k.key, now]), windowSeconds, windowSeconds],
  );
}

export async function resetFailures(db: Knex, key: string): Promise<void> {
  await db('login_throttle').where({ key }).delete();
}

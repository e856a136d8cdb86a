import type { Knex } from 'knex';
import type { Config } from '../../config';
import { problems } from './errors';

/**
 * Abuse limits on requests that create accounts, send codes or reveal whether something
 * exists. Each limit is a counter in PostgreSQL (`rate_limit_counters`), so every API
 * process shares it; a key such as `signup:address:203.0.113.7` counts attempts in a
 * fixed window that starts with its first hit. An attempt is counted against every key
 * of the action in one statement, then refused with 429 and Retry-After if any key is
 * over its limit. Refused attempts count too: hammering a limit does not reopen it.
 */

export type LimitedAction = 'signup' | 'verification' | 'lookup' | 'cardStatus';

export interface RateLimit {
  key: string;
  max: number;
}

/** The action's limits for one client address and one target (an email, a phone, a user, a customer reference). */
export function limitsFor(config: Config['rateLimits'], action: LimitedAction, address: string, target: string): RateLimit[] {
  const limits = config[action];
  return [
    { key: `${action}:address:${address}`, max: limits.perAddress },
    { key: `${action}:target:${target}`, max: limits.perTarget },
  ];
}

/** Counts one attempt against every key; throws 429 (Retry-After: seconds until the latest window ends) when any is over. */
export async function consumeRateLimit(db: Knex, limits: RateLimit[], windowSeconds: number, now: Date): Promise<void> {
  const values = limits.map(() => '(?, 1, ?::timestamptz)').join(', ');
  const expired = `rate_limit_counters.window_started_at <= excluded.window_started_at - ? * interval '1 second'`;
  const result = await db.raw<{ rows: Array<{ key: string; hits: number; window_started_at: Date }> }>(
    `insert into rate_limit_counters (key, hits, window_started_at) values ${values}
     on conflict (key) do update set
       hits = case when ${expired} then 1 else rate_limit_counters.hits + 1 end,
       window_started_at = case when ${expired} then excluded.window_started_at else rate_limit_counters.window_started_at end
     returning key, hits, window_started_at`,
    [...limits.flatMap((l) => [l.key, now]), windowSeconds, windowSeconds],
  );
  let waitSeconds: number | undefined;
  for (const row of result.rows) {
    const max = limits.find((l) => l.key === row.key)?.max ?? Infinity;
    if (row.hits > max) {
      const remainingMs = row.window_started_at.getTime() + windowSeconds * 1000 - now.getTime();
      waitSeconds = Math.max(waitSeconds ?? 1, Math.ceil(remainingMs / 1000));
    }
  }
  if (waitSeconds !== undefined) throw problems.rateLimited(waitSeconds);
}

/** Shorthand for the API: the action's limits for this address and target, on the app's window. */
export function rateLimit(
  app: { config: Pick<Config, 'rateLimits'>; deps: { db: Knex; now: () => Date } },
  action: LimitedAction,
  address: string,
  target: string,
): Promise<void> {
  const limits = limitsFor(app.config.rateLimits, action, address, target);
  return consumeRateLimit(app.deps.db, limits, app.config.rateLimits.windowSeconds, app.deps.now());
}

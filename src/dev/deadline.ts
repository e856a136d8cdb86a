/**
 * Every wait in start-up, tests and benchmarks has a deadline and says what it waited
 * for. A wait that never ends is the worst failure a newcomer can meet: no output, no
 * error, nothing to search for.
 */

export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`gave up after ${formatMs(timeoutMs)} waiting for ${what}`);
  }
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s` : `${ms} ms`;
}

/** Settles like `work`, or rejects with a DeadlineError naming `what` after `timeoutMs`. */
export async function withDeadline<T>(what: string, timeoutMs: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PollOptions {
  timeoutMs: number;
  intervalMs?: number;
}

/**
 * Calls `probe` until it returns a value other than undefined, then returns it. A probe
 * that throws counts as "not yet"; the last error is kept in the deadline message.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const intervalMs = options.intervalMs ?? 100;
  const giveUpAt = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= giveUpAt) {
      const error = new DeadlineError(what, options.timeoutMs);
      if (lastError instanceof Error) error.message += ` (last error: ${lastError.message})`;
      throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

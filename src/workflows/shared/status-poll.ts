import { sleep } from '@temporalio/workflow';

/** How a workflow asks again about an outcome it does not know yet: doubling waits, and a bound on the whole wait. */
export interface PollBackoff {
  firstDelayMs: number;
  maxDelayMs: number;
  /** Sleeping stops once this much has been slept in all: every poll loop ends. */
  maxWaitMs: number;
}

export interface PollHooks {
  /** Runs just before each sleep (e.g. to show operators the wait). */
  beforeSleep?: () => void;
  /**
   * Asked once the wait is spent; answering false keeps polling. For a bound added by a
   * patch: histories recorded before it polled on, and must replay that way.
   */
  mayStop?: () => boolean;
}

/**
 * Polls until `poll` answers (anything but undefined), sleeping between polls from
 * `firstDelayMs`, doubling up to `maxDelayMs`. Answers undefined once `maxWaitMs` has been
 * slept without an answer: the caller decides what an outcome nobody knows means.
 */
export async function pollWithBackoff<T>(backoff: PollBackoff, poll: () => Promise<T | undefined>, hooks: PollHooks = {}): Promise<T | undefined> {
  let waitedMs = 0;
  for (let delayMs = backoff.firstDelayMs; ; delayMs = Math.min(delayMs * 2, backoff.maxDelayMs)) {
    const answer = await poll();
    if (answer !== undefined) return answer;
    if (waitedMs >= backoff.maxWaitMs && (hooks.mayStop?.() ?? true)) return undefined;
    hooks.beforeSleep?.();
    await sleep(delayMs);
    waitedMs += delayMs;
  }
}

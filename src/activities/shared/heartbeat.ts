import { asyncLocalStorage } from '@temporalio/activity';

/**
 * Tells Temporal the activity is alive, when the caller runs as one; a function called
 * directly (a test, a benchmark) has no activity to report on. A long step heartbeats so
 * that a worker killed mid-step is noticed within its heartbeat timeout, not its
 * start-to-close timeout.
 */
export function heartbeat(details?: unknown): void {
  asyncLocalStorage.getStore()?.heartbeat(details);
}

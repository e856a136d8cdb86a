import { eventually as poll } from '../../src/dev/deadline';

/**
 * Waits until `probe` returns a value (not undefined), probing every `intervalMs`; gives
 * up after `timeoutMs` with a message naming `what` (and the probe's last error).
 */
export function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  return poll(what, probe, { timeoutMs, intervalMs });
}

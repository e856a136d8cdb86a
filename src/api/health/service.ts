import type { AppContext } from '../core/context';
import { withDeadline } from '../../temporal/client';

type Check = 'ok' | 'unavailable';

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
  });
  try {
    await Promise.race([fn(), timeout]);
    return 'ok';
  } catch {
    return 'unavailable';
  } finally {
    clearTimeout(timer);
  }
}

/** Whether PostgreSQL and Temporal answer, each within the dependency timeout. */
export async function readiness(app: AppContext): Promise<{ postgres: Check; temporal: Check }> {
  const { db, temporal } = app.deps;
  const timeoutMs = app.config.dependencyTimeoutMs;
  const [postgres, temporalCheck] = await Promise.all([
    probe(() => db.raw('select 1'), timeoutMs),
    probe(() => withDeadline(temporal, timeoutMs, () => temporal.workflowService.getSystemInfo({})), timeoutMs),
  ]);
  return { postgres, temporal: temporalCheck };
}

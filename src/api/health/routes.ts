import { z } from 'zod';
import { route, type RouteSpec } from '../core/route';
import type { AppContext } from '../core/context';
import { withDeadline } from '../../temporal/client';

const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['ok', 'unavailable'])) });

async function probe(fn: () => Promise<unknown>, timeoutMs: number): Promise<'ok' | 'unavailable'> {
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

export function healthRoutes(app: AppContext): RouteSpec[] {
  const { db, temporal } = app.deps;
  const timeoutMs = app.config.dependencyTimeoutMs;
  return [
    route({
      method: 'get',
      path: '/health',
      summary: 'Liveness: the process is up.',
      tags: ['health'],
      access: 'public',
      responses: { 200: { description: 'Alive.', schema: z.object({ status: z.literal('ok') }) } },
      handler: async (ctx) => {
        ctx.body = { status: 'ok' };
      },
    }),
    route({
      method: 'get',
      path: '/health/ready',
      summary: 'Readiness: PostgreSQL and Temporal are reachable.',
      tags: ['health'],
      access: 'public',
      responses: {
        200: { description: 'Ready.', schema: HealthSchema },
        503: { description: 'A dependency is unreachable; `checks` names it.', schema: HealthSchema },
      },
      handler: async (ctx) => {
        const [postgres, temporalCheck] = await Promise.all([
          probe(() => db.raw('select 1'), timeoutMs),
          probe(() => withDeadline(temporal, timeoutMs, () => temporal.workflowService.getSystemInfo({})), timeoutMs),
        ]);
        const ready = postgres === 'ok' && temporalCheck === 'ok';
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ok' : 'unavailable', checks: { postgres, temporal: temporalCheck } };
      },
    }),
  ];
}

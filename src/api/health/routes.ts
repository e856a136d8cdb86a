import { z } from 'zod';
import { route, type RouteSpec } from '../core/route';
import type { AppContext } from '../core/context';
import { readiness } from './service';

const HealthSchema = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['ok', 'unavailable'])) });

export function healthRoutes(app: AppContext): RouteSpec[] {
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
        const checks = await readiness(app);
        const ready = checks.postgres === 'ok' && checks.temporal === 'ok';
        ctx.status = ready ? 200 : 503;
        ctx.body = { status: ready ? 'ok' : 'unavailable', checks };
      },
    }),
  ];
}

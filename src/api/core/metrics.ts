import Router from '@koa/router';
import type { Middleware } from 'koa';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { AppState } from './context';

/**
 * The API's Prometheus metrics (docs/observability.md): requests by route and status,
 * their latency, idempotent replays and rate-limit refusals, and Node's own process
 * metrics. One registry per app (not prom-client's global one), so several apps in one
 * process (tests) do not count into each other. Labels are the route's pattern
 * (`/v1/payments/:id`), never the raw path, so ids cannot blow up the series count.
 */
export interface ApiMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route'>;
  replays: Counter<'route'>;
  rateLimited: Counter<'route'>;
}

/** Seconds; from a fast read to a payment that waited its full synchronous window. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'finflow_api_' });
  return {
    registry,
    requests: new Counter({ name: 'finflow_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status.', labelNames: ['method', 'route', 'status'], registers: [registry] }),
    duration: new Histogram({
      name: 'finflow_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route pattern.',
      labelNames: ['method', 'route'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    replays: new Counter({ name: 'finflow_idempotency_replays_total', help: 'Responses replayed for a repeated Idempotency-Key, by route.', labelNames: ['route'], registers: [registry] }),
    rateLimited: new Counter({ name: 'finflow_rate_limit_refusals_total', help: 'Requests refused with 429 (rate limits and the login throttle), by route.', labelNames: ['route'], registers: [registry] }),
  };
}

/**
 * Counts every request once it has its final status (so it sits outside the problem
 * middleware). A path no route matched is labelled `unmatched`.
 */
export function metricsMiddleware(metrics: ApiMetrics): Middleware<AppState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
      const labels = { method: ctx.method, route: route === undefined ? 'unmatched' : String(route) };
      metrics.requests.inc({ ...labels, status: String(ctx.status) });
      metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
      if (ctx.response.get('Idempotent-Replayed') === 'true') metrics.replays.inc({ route: labels.route });
      if (ctx.status === 429) metrics.rateLimited.inc({ route: labels.route });
    }
  };
}

/** `GET /metrics` in Prometheus' text format; with a token configured, only for `Authorization: Bearer <token>`. */
export function metricsRouter(metrics: ApiMetrics, token: string | undefined): Router<AppState> {
  const router = new Router<AppState>();
  router.get('/metrics', async (ctx) => {
    if (token && ctx.get('authorization') !== `Bearer ${token}`) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer');
      ctx.body = { type: 'unauthenticated', title: 'Unauthenticated', status: 401, detail: 'GET /metrics needs the METRICS_TOKEN bearer token.' };
      ctx.type = 'application/problem+json';
      return;
    }
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  return router;
}

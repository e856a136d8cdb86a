import { mkdir, writeFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { NoopSpanProcessor } from '@opentelemetry/sdk-trace-base';
import Koa from 'koa';
import { createApiMetrics, metricsMiddleware } from '../src/api/core/metrics';
import { installTracing, tracingMiddleware } from '../src/observability/tracing';
import { Tally, type Measurement } from './measure';

/**
 * `npm run bench:observability`: what the API's metrics and tracing middleware cost per
 * request (docs/observability.md). One Koa app answers a tiny JSON body, in four
 * variants measured in interleaved rounds over keep-alive HTTP on loopback: bare; with
 * the metrics middleware; with metrics and the tracing middleware and no tracer
 * provider (tracing off, as without OTEL_EXPORTER_OTLP_ENDPOINT); with a registered
 * provider recording every span into a no-op processor (tracing on, export excluded).
 *
 * Settings: BENCH_REQUESTS (per variant, default 8000), BENCH_ROUNDS (default 4),
 * BENCH_CLIENTS (concurrent requests, default 16). Target: metrics and tracing off
 * cost under 10 % of the bare app's throughput.
 */

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 8000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 16);
const TARGET = 0.9;

type Variant = 'bare' | 'metrics' | 'metrics + tracing off' | 'metrics + tracing on';

function appFor(variant: Variant): Koa {
  const app = new Koa();
  if (variant !== 'bare') app.use(metricsMiddleware(createApiMetrics()));
  if (variant === 'metrics + tracing off' || variant === 'metrics + tracing on') app.use(tracingMiddleware());
  app.use((ctx) => {
    ctx.body = { ok: true };
  });
  return app;
}

async function listen(app: Koa): Promise<{ server: Server; url: string }> {
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}

async function main(): Promise<void> {
  const variants: Variant[] = ['bare', 'metrics', 'metrics + tracing off', 'metrics + tracing on'];
  const servers = await Promise.all(variants.map(async (v) => [v, await listen(appFor(v))] as const));
  const tallies = new Map(variants.map((v) => [v, new Tally(v)]));
  const request = (url: string) => async () => {
    const res = await fetch(url);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`${url}: ${res.status}`);
  };
  try {
    for (const [, { url }] of servers) await new Tally('warm-up').round(CLIENTS, 500, request(url));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [variant, { url }] of servers) {
        // Tracing is a process-wide registration: on only while its variant runs.
        const tracing = variant === 'metrics + tracing on' ? await installTracing({ observability: { otlpEndpoint: undefined, serviceName: 'bench', metricsToken: undefined, workerMetrics: { host: '127.0.0.1', port: 0 } } }, 'api', new NoopSpanProcessor()) : undefined;
        await tallies.get(variant)!.round(CLIENTS, REQUESTS / ROUNDS, request(url));
        await tracing?.shutdown();
      }
    }
  } finally {
    for (const [, { server }] of servers) server.close();
  }
  const results: Measurement[] = variants.map((v) => tallies.get(v)!.result());
  const bare = results[0]!.opsPerSecond;
  console.table(
    results.map((r) => ({
      variant: r.name,
      'req/s': Math.round(r.opsPerSecond),
      'vs bare': `${Math.round((100 * r.opsPerSecond) / bare)} %`,
      'p50 ms': r.p50Ms.toFixed(2),
      'p99 ms': r.p99Ms.toFixed(2),
      'client CPU µs/req': Math.round(r.clientCpuUsPerOp),
    })),
  );
  const off = results[2]!.opsPerSecond / bare;
  console.log(`metrics + tracing off: ${Math.round(100 * off)} % of bare (target ≥ ${Math.round(100 * TARGET)} %): ${off >= TARGET ? 'met' : 'NOT met'}`);
  const file = join(__dirname, 'results', `observability-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await mkdir(join(__dirname, 'results'), { recursive: true });
  await writeFile(file, JSON.stringify({ bench: 'observability', at: new Date().toISOString(), environment: { node: process.version, cpus: cpus().length }, clients: CLIENTS, requestsPerVariant: REQUESTS, rounds: ROUNDS, results }, null, 2));
  console.log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});

import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { Resource } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ClientInterceptors } from '@temporalio/client';
import { OpenTelemetryPlugin, OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import type { Middleware } from 'koa';
import type { Config } from '../config';

/**
 * Traces across API → workflow → activities (docs/observability.md, "Traces"), with
 * Temporal's OpenTelemetry interceptors: the API opens a span per request; the client
 * interceptor opens `StartWorkflow:<type>` under it and carries its context in the
 * workflow's headers; the worker's plugin opens `RunWorkflow:<type>` (exported from the
 * sandbox through a sink) and `RunActivity:<type>` under it. Off unless
 * OTEL_EXPORTER_OTLP_ENDPOINT is set (or a test passes its own span processor).
 */

/** The workflow-side interceptors; a pre-built bundle must include them (src/worker/bundle.ts). */
export const WORKFLOW_TRACING_MODULES = [require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors')];

export interface Tracing {
  resource: Resource;
  processor: SpanProcessor;
  provider: BasicTracerProvider;
  /** Flushes what is buffered and stops exporting. */
  shutdown: () => Promise<void>;
}

/**
 * Registers the process's tracer provider (with an AsyncLocalStorage context manager, so
 * a request's span is the parent of what it starts). Undefined when tracing is off.
 */
export async function installTracing(config: Pick<Config, 'observability'>, role: 'api' | 'worker', processor?: SpanProcessor): Promise<Tracing | undefined> {
  const endpoint = config.observability.otlpEndpoint;
  if (!processor && !endpoint) return undefined;
  const resource = new Resource({ 'service.name': `${config.observability.serviceName}-${role}` });
  // Loaded only when exporting: the OTLP exporter is the heaviest module here.
  const exporter = async () => new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter({ url: `${(endpoint ?? '').replace(/\/+$/, '')}/v1/traces` });
  const spanProcessor = processor ?? new BatchSpanProcessor(await exporter());
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  provider.register({ contextManager: new AsyncLocalStorageContextManager().enable() });
  return {
    resource,
    processor: spanProcessor,
    provider,
    shutdown: async () => {
      await provider.shutdown();
      otel.trace.disable();
      otel.context.disable();
      otel.propagation.disable();
    },
  };
}

/** The client interceptors that start workflows under the caller's active span. */
export function tracingClientInterceptors(): ClientInterceptors {
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor()] };
}

/**
 * The worker's plugin: activity and workflow interceptors and the workflow span sink.
 * Without tracing, a plugin that exports nothing, for workers whose pre-built bundle
 * carries the workflow interceptors (they call the sink whether or not anyone listens).
 */
export function tracingWorkerPlugin(tracing: Tracing | undefined): OpenTelemetryPlugin {
  return new OpenTelemetryPlugin({ resource: tracing?.resource ?? new Resource({}), spanProcessor: tracing?.processor ?? new NoopSpanProcessor() });
}

/** One server span per request, active while the request is handled, named by its route pattern. */
export function tracingMiddleware(): Middleware {
  const tracer = otel.trace.getTracer('finflow-api');
  return (ctx, next) =>
    tracer.startActiveSpan(`${ctx.method} ${ctx.path}`, { kind: otel.SpanKind.SERVER }, async (span) => {
      try {
        await next();
      } finally {
        const route = (ctx as { _matchedRoute?: string | RegExp })._matchedRoute;
        if (route !== undefined) span.updateName(`${ctx.method} ${String(route)}`);
        span.setAttribute('http.response.status_code', ctx.status);
        if (ctx.status >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
        span.end();
      }
    });
}

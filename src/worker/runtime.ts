import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type { Logger } from '../logger';
import { countBusinessEvents } from '../observability/worker-metrics';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const satisfies Record<LogLevel, string>;
const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

export interface RuntimeLogOptions {
  /** The least severe Temporal log that reaches the app's logger. */
  level?: LogLevel;
  /** Signals the Runtime stops workers on; `[]` when the caller owns the signals (`npm start`). */
  shutdownSignals?: NodeJS.Signals[];
  /**
   * Where the SDK serves its Prometheus metrics (docs/observability.md); the business
   * counters (src/observability/worker-metrics.ts) are exported there too.
   */
  metrics?: { host: string; port: number };
}

/**
 * Installs the Temporal Runtime so that the worker's logs (the SDK's, the workflows'
 * and activities', and the native core's, forwarded) go through the app's pino logger
 * as JSON lines like every other log, tagged `component: temporal`. Once per process,
 * before the first worker or native connection is created.
 */
export function installTemporalRuntime(logger: Logger, { level = 'INFO', shutdownSignals, metrics }: RuntimeLogOptions = {}): void {
  Runtime.install({
    logger: pinoTemporalLogger(logger.child({ component: 'temporal' }), level),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(metrics ? { metrics: { prometheus: { bindAddress: `${metrics.host}:${metrics.port}` } } } : {}),
    },
    ...(shutdownSignals ? { shutdownSignals } : {}),
  });
  if (metrics) countBusinessEvents(Runtime.instance().metricMeter);
}

function pinoTemporalLogger(logger: Logger, minimum: LogLevel): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    if (SEVERITY[level] < SEVERITY[minimum]) return;
    logger[PINO_LEVEL[level]](meta ?? {}, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

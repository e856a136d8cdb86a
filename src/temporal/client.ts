import { Client, Connection, ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, isGrpcServiceError, type ClientInterceptors } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import type { DataConverter } from '@temporalio/common';
import type { Config } from '../config';
import { createPayloadCodec } from './codec';
import { SEARCH_ATTRIBUTE_KEYS, TASK_QUEUES, scheduleIds, workflowIds } from './names';

/**
 * The one place that turns config into Temporal connections, for the API (client) and
 * the worker (native connection). The client connection is lazy so the API boots and
 * reports `/health/ready` 503 while Temporal is down, and recovers when it returns.
 */

type TemporalConfig = Config['temporal'];

const GRPC_ALREADY_EXISTS = 6;
const GRPC_UNIMPLEMENTED = 12;

function connectionOptions(config: TemporalConfig) {
  if (!config.address) throw new Error('Temporal address is not resolved');
  return {
    address: config.address,
    tls: config.tls ? {} : undefined,
    apiKey: config.apiKey,
    metadata: config.apiKey ? { 'temporal-namespace': config.namespace } : undefined,
  };
}

/**
 * The data converter of every finflow client and worker: payloads are sealed by the
 * payload codec before they reach Temporal, so its histories hold no secret in clear.
 */
export function dataConverter(config: Pick<TemporalConfig, 'payloadCodec'>): DataConverter {
  return { payloadCodecs: [createPayloadCodec(config.payloadCodec)] };
}

/** A client over a lazy connection; `interceptors` for tracing (src/observability/tracing.ts). */
export function createClient(config: TemporalConfig, interceptors?: ClientInterceptors): Client {
  const connection = Connection.lazy(connectionOptions(config));
  return new Client({ connection, namespace: config.namespace, dataConverter: dataConverter(config), ...(interceptors ? { interceptors } : {}) });
}

export function createNativeConnection(config: TemporalConfig): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(config));
}

/** Runs a Temporal call with a deadline so a down server fails the request, never hangs it. */
export function withDeadline<T>(client: Client, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  return client.connection.withDeadline(Date.now() + timeoutMs, fn);
}

/** Registers finflow's search attributes on the namespace; already-registered ones are kept. */
export async function ensureSearchAttributes(client: Client, namespace: string): Promise<void> {
  const { IndexedValueType } = temporal.api.enums.v1;
  let registered: Record<string, unknown> = {};
  try {
    registered = (await client.connection.operatorService.listSearchAttributes({ namespace })).customAttributes ?? {};
  } catch (err) {
    // The time-skipping test server can add search attributes but not list them.
    if (!(isGrpcServiceError(err) && err.code === GRPC_UNIMPLEMENTED)) throw err;
  }
  const missing = SEARCH_ATTRIBUTE_KEYS.filter((key) => !(key.name in registered));
  if (missing.length === 0) return;
  try {
    await client.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((key) => [key.name, IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  } catch (err) {
    // Another worker registered them first.
    if (!(isGrpcServiceError(err) && err.code === GRPC_ALREADY_EXISTS)) throw err;
  }
}

/** Creates finflow's housekeeping Schedules if they do not exist yet (an existing one is kept as it is). */
export async function ensureHousekeepingSchedules(client: Client, config: Pick<Config, 'idempotency' | 'cards'>): Promise<void> {
  const schedules = [
    {
      scheduleId: scheduleIds.idempotencyKeyExpiry,
      every: '1h',
      workflowType: 'expireIdempotencyKeys',
      workflowId: workflowIds.idempotencyKeyExpiry(),
      args: [{ ttlSeconds: config.idempotency.ttlSeconds }],
    },
    {
      scheduleId: scheduleIds.pendingHoldExpiry,
      every: '15m',
      workflowType: 'expirePendingHolds',
      workflowId: workflowIds.pendingHoldExpiry(),
      args: [],
    },
    {
      scheduleId: scheduleIds.paymentRepairs,
      every: '10m',
      workflowType: 'repairPaymentCredits',
      workflowId: workflowIds.paymentRepairs(),
      args: [],
    },
    {
      scheduleId: scheduleIds.requestStarts,
      every: '5m',
      workflowType: 'startAbandonedRequests',
      workflowId: workflowIds.requestStarts(),
      args: [{}],
    },
    // cards: partner files dropped under the pickup prefix (docs/cards.md).
    {
      scheduleId: scheduleIds.cardFilePickup,
      every: `${config.cards.pickupIntervalSeconds}s`,
      workflowType: 'pickUpCardFiles',
      workflowId: workflowIds.cardFilePickup(),
      args: [{ prefix: config.cards.pickupPrefix }],
    },
  ] as const;
  for (const { scheduleId, every, workflowType, workflowId, args } of schedules) {
    try {
      await client.schedule.create({
        scheduleId,
        spec: { intervals: [{ every }] },
        policies: { overlap: ScheduleOverlapPolicy.SKIP },
        action: { type: 'startWorkflow', workflowType, workflowId, taskQueue: TASK_QUEUES.core, args: [...args] },
      });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    }
  }
  await ensureStatementSchedule(client);
}

/**
 * The daily statement run (docs/statements.md): 02:00 UTC every day, for the statements
 * whose cycle closed at the midnight before (cards whose statement day it was; on a
 * month's last day, every other account's month). Runs of a backfill queue up rather
 * than being skipped: each makes its own day's statements, and a day run twice makes
 * none twice. The calendar-month Schedule it replaces is deleted, so the 1st does not
 * cut a second set.
 */
export async function ensureStatementSchedule(client: Client): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: scheduleIds.dailyStatements,
      spec: { calendars: [{ hour: 2, minute: 0 }] },
      policies: { overlap: ScheduleOverlapPolicy.BUFFER_ALL, catchupWindow: '7 days' },
      action: { type: 'startWorkflow', workflowType: 'statementCycles', workflowId: workflowIds.statementCycles(), taskQueue: TASK_QUEUES.core, args: [{}] },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  try {
    await client.schedule.getHandle(scheduleIds.monthlyStatements).delete();
  } catch (err) {
    if (!(err instanceof ScheduleNotFoundError)) throw err;
  }
}

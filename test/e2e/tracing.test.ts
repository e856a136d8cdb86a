import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { Worker } from '@temporalio/worker';
import { createApp } from '../../src/api/app';
import { withServices } from '../../src/config';
import { createLedger } from '../../src/ledger/service';
import { createLogger } from '../../src/logger';
import { installTracing, tracingClientInterceptors, type Tracing } from '../../src/observability/tracing';
import { createClient, ensureSearchAttributes } from '../../src/temporal/client';
import { createWorker } from '../../src/worker/create-worker';
import { appPorts, createPorts } from '../../src/worker/deps';
import { client as httpClient } from '../helpers/http';
import { devServer, postgresUrl, testConfig, testDb } from '../helpers/services';
import { signUpAndLogin } from '../helpers/users';
import { eventually } from '../helpers/wait';

/**
 * OpenTelemetry traces across API → workflow → activities (docs/observability.md,
 * "Traces"): the API, the Temporal client and a worker built as production builds them,
 * with an in-memory exporter in place of OTLP. A namespace of its own on the dev server,
 * so the shared e2e worker (untraced, same task queue) never takes these workflows.
 */
describe('traces across API, workflow and activities (e2e)', function () {
  this.timeout(120_000);
  const NAMESPACE = 'finflow-tracing';
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let temporal: Client;
  let worker: Worker;
  let running: Promise<void>;
  let server: Server;
  let http: ReturnType<typeof httpClient>;
  let ledger: ReturnType<typeof createLedger>;

  before(async function () {
    this.timeout(300_000);
    const [url, dev, db] = await Promise.all([postgresUrl(), devServer(), testDb()]);
    const base = withServices(testConfig(), url, dev.address);
    const config = { ...base, temporal: { ...base.temporal, namespace: NAMESPACE } };
    await dev.client.connection.workflowService.registerNamespace({ namespace: NAMESPACE, workflowExecutionRetentionPeriod: msToTs('1 day') }).catch((err: unknown) => {
      if (!(isGrpcServiceError(err) && err.code === 6)) throw err;
    });
    tracing = (await installTracing(config, 'api', new SimpleSpanProcessor(exporter))) as Tracing;
    temporal = createClient(config.temporal, tracingClientInterceptors());
    await eventually('the tracing namespace', async () => ensureSearchAttributes(temporal, NAMESPACE).then(() => true, () => undefined));
    const ports = createPorts(config, { db });
    ledger = createLedger(db);
    // No bundle given: the worker bundles src/workflows with the plugin's workflow interceptors.
    worker = await createWorker(config, { db, ...ports, now: () => new Date(), temporal }, { connection: dev.nativeConnection, tracing, overrides: { shutdownGraceTime: '1s' } });
    running = worker.run();
    server = createApp(config, { db, temporal, logger: createLogger(config), ...appPorts(ports) }).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    http = httpClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    worker?.shutdown();
    await running;
    await temporal?.connection.close();
    await tracing?.shutdown();
  });

  /** The API starts payBillV3 with update-with-start on its `outcome` update: one span for both. */
  const START_SPAN = 'UpdateWithStartWorkflow:outcome';

  /** Pays a bill over HTTP; answers the trace of its request once the worker's spans are in. */
  async function tracedPayment(): Promise<ReadableSpan[]> {
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const user = await signUpAndLogin(baseUrl);
    const wallet = (await ledger.listAccounts(user.user.id)).find((a) => a.type === 'wallet')!.id;
    const clearing = await ledger.ensureSystemAccount('funding_clearing', 'USD');
    await ledger.createTransfer({ id: randomUUID(), debitAccountId: clearing.id, creditAccountId: wallet, amountMinor: 10_000n, currency: 'USD', code: 'bank_deposit' });
    const res = await http('POST', '/v1/payments', {
      token: user.accessToken,
      headers: { 'idempotency-key': randomUUID() },
      body: { billerId: 'brightgrid-power', customerRef: '4820193755', amount: '2500', fromAccountId: wallet },
    });
    // Accepted, finished (201) or still running (202): the trace is awaited below either way,
    // so a machine too busy to finish within the API's 3 s wait does not fail a test of traces.
    assert.ok(res.status === 201 || res.status === 202, JSON.stringify(res.body));
    return eventually('the payment trace', async () => {
      const spans = exporter.getFinishedSpans();
      const request = spans.filter((s) => s.name === 'POST /v1/payments').pop();
      const trace = request ? spans.filter((s) => s.spanContext().traceId === request.spanContext().traceId) : [];
      // The workflow's span ends with the workflow, after its last activity.
      const ended = (name: string) => trace.some((s) => s.name === name);
      return ended('RunActivity:sendBillPaymentNotice') && ended('RunWorkflow:payBillV3') ? trace : undefined;
    });
  }

  it('the request, the workflow start, the workflow run and its activities share one trace', async () => {
    const names = new Set((await tracedPayment()).map((s) => s.name));
    for (const name of ['POST /v1/payments', START_SPAN, 'RunWorkflow:payBillV3', 'RunActivity:prepareBillPayment', 'RunActivity:payBiller', 'RunActivity:settleBillPayment']) assert.ok(names.has(name), `${name} in ${[...names].join(', ')}`);
  });

  it('the workflow start is a child of the request span', async () => {
    const trace = await tracedPayment();
    const request = trace.find((s) => s.name === 'POST /v1/payments')!;
    const start = trace.find((s) => s.name === START_SPAN)!;
    assert.equal(start.parentSpanId, request.spanContext().spanId);
  });
});

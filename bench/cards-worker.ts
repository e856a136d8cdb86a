import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { loadConfig } from '../src/config';
import { createDb } from '../src/db/knex';
import { createPorts } from '../src/worker/deps';

/**
 * The ingesting process of `npm run bench:cards`: a worker alone in its process, on the
 * workflow bundle the bench made, so its RSS is the ingestion's and not the bundler's.
 * It samples its own RSS every 100 ms and prints the peak (and the V8 heap in use then)
 * as JSON when told to stop.
 */

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const [address, taskQueue, bundlePath, databaseUrl, batchRows] = process.argv.slice(2) as [string, string, string, string, string];
  const config = loadConfig({ ...process.env, NODE_ENV: 'development', DATABASE_URL: databaseUrl });
  const db = createDb({ database: { url: databaseUrl, poolMax: 10, embeddedPort: 0 }, dependencyTimeoutMs: 10_000 });
  const connection = await NativeConnection.connect({ address });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: bundlePath },
    activities: createActivities({ db, ...createPorts(config, { db }), now: () => new Date(), cardFileBatchRows: Number(batchRows) }),
  });
  const { rss: rssBefore, heapUsed: heapBefore } = process.memoryUsage();
  let peakRss = rssBefore;
  let heapAtPeak = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const { rss, heapUsed } = process.memoryUsage();
    if (rss > peakRss) [peakRss, heapAtPeak] = [rss, heapUsed];
  }, 100);
  process.once('SIGTERM', () => worker.shutdown());
  const running = worker.run();
  console.log(JSON.stringify({ ready: true }));
  await running;
  clearInterval(sampler);
  await db.destroy();
  await connection.close();
  console.log(JSON.stringify({ rssBefore, heapBefore, peakRss, heapAtPeak }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});

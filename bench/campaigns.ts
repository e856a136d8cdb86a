import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Client } from '@temporalio/client';
import { createActivities } from '../src/activities';
import { applySegment, type SegmentFilter } from '../src/campaigns/segments';
import { loadConfig } from '../src/config';
import { createDb, migrateLatest, type Db } from '../src/db/knex';
import { startDevServer } from '../src/dev/temporal';
import { withDeadline } from '../src/dev/deadline';
import { workflowIds } from '../src/temporal/names';
import { WORKFLOWS_PATH } from '../src/worker/create-worker';
import { createPorts } from '../src/worker/deps';
import type { CampaignRolloutWorkflow } from '../src/workflows/campaigns/contract';
import { benchPostgres, benchStartupTimeoutMs } from './postgres';

/**
 * `npm run bench:campaigns`: the campaigns line at a million contacts, on the sandbox
 * provider with no artificial latency, PostgreSQL (embedded, or DATABASE_URL) and the
 * Temporal dev server, worker in this process:
 *
 *   1. seed BENCH_CONTACTS consenting contacts in one INSERT … SELECT over generate_series;
 *   2. preview two segments (an indexed equality, a range over every row): count + sample,
 *      with the plan PostgreSQL chose;
 *   3. a campaign to all of them at a sender limit of BENCH_RATE (2,000/s): planning time
 *      (segment → queued messages), the send rate achieved over the run (first to last
 *      send, as the sandbox recorded them) and over the busiest second, duplicates (must
 *      be 0), the worker's peak memory (RSS of this process, sampled while the campaign
 *      runs) and the largest workflow history in events.
 *
 * The contact import and the preview of every segment operator have their own bench,
 * `npm run bench:contacts-import` (bench/contacts.ts).
 *
 * Settings: BENCH_CONTACTS (default 1,000,000), BENCH_RATE (default 2000).
 */

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 1_000_000);
const RATE = Number(process.env.BENCH_RATE ?? 2000);
const TASK_QUEUE = 'bench-campaigns';
const CITIES = ['Paris', 'Lyon', 'Oslo', 'Lima', 'Pune', 'Kyiv', 'Baku', 'Doha', 'Rome', 'Riga'];

/**
 * Seeds `count` consenting contacts in one statement: distinct +1415 numbers, none ending
 * in the sandbox's scripted …0001–…0004, with the attributes the segments select on.
 */
async function seedContacts(db: Db, count: number): Promise<void> {
  const step = 100_000;
  for (let from = 0; from < count; from += step) {
    // 2000000 + 7i is distinct per i; +5 moves the scripted endings off 0001–0004 without meeting another i's number (5 is not a multiple of 7).
    await db.raw(
      `insert into contacts (phone, attributes, timezone, sms_consent, sms_consent_source, sms_consent_at)
       select '+1415' || (l + case when l % 10000 between 1 and 4 then 5 else 0 end),
              jsonb_build_object('city', (?::text[])[1 + i % 10], 'age', 18 + i % 70, 'bench', true, 'first_name', 'C' || i), 'UTC', 'opt_in', 'bench', now()
         from generate_series(?::int, ?::int) i, lateral (select 2000000 + 7 * i as l) p`,
      [CITIES, from, Math.min(count, from + step) - 1],
    );
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = process.hrtime.bigint();
  const value = await work();
  return { value, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function preview(db: Db, filters: SegmentFilter[]) {
  const result = await timed(async () => {
    const [count, sample] = await Promise.all([
      applySegment(db('contacts'), filters).count<Array<{ count: string }>>('* as count'),
      applySegment(db('contacts').select('*'), filters).limit(10),
    ]);
    return { count: Number(count[0]?.count), sample: sample.length };
  });
  // How PostgreSQL answers the count: the plan's scan lines (an index, or every row).
  const { rows } = await db.raw<{ rows: Array<{ 'QUERY PLAN': string }> }>('explain ?', [applySegment(db('contacts'), filters).count('* as count')]);
  const plan = rows.map((r) => r['QUERY PLAN'].trim()).filter((line) => /Scan/.test(line)).map((line) => line.replace(/^->\s*/, '').replace(/\s+\(cost.*$/, ''));
  return { ...result, plan: plan.join('; ') };
}

async function largestHistory(client: Client): Promise<{ events: number; workflowId: string }> {
  let largest = { events: 0, workflowId: '' };
  for await (const execution of client.workflow.list({ query: `WorkflowType = 'campaignRollout' OR WorkflowType = 'campaignBatch'` })) {
    if ((execution.historyLength ?? 0) > largest.events) largest = { events: execution.historyLength, workflowId: execution.workflowId };
  }
  return largest;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const timeoutMs = benchStartupTimeoutMs();
  const [pg, temporal] = await Promise.all([benchPostgres('finflow_bench_campaigns'), startDevServer({ timeoutMs })]);
  const db = createDb({ database: { url: pg.url, poolMax: 20, embeddedPort: 0 }, dependencyTimeoutMs: 30_000 });
  let peakRssBytes = 0;
  const sampler = setInterval(() => (peakRssBytes = Math.max(peakRssBytes, process.memoryUsage().rss)), 250);
  try {
    await migrateLatest(db);
    // The benchmark measures the sandboxes, named here explicitly rather than by default.
    const config = loadConfig({ NODE_ENV: 'development', SMS_PROVIDER: 'sandbox', FUNDING_PROVIDER: 'sandbox', BILLER_PROVIDER: 'sandbox' });
    const ports = createPorts(config, { db });
    const worker = await Worker.create({
      connection: temporal.nativeConnection,
      taskQueue: TASK_QUEUE,
      workflowsPath: WORKFLOWS_PATH,
      activities: createActivities({ db, ...ports, now: () => new Date(), campaignSend: { senderRatePerSecond: RATE, staleClaimMs: 60_000 } }),
      shutdownGraceTime: '10s',
    });
    const { client } = temporal;
    const summary = await worker.runUntil(async () => {
      // 1. Seed.
      const seeded = await timed(() => seedContacts(db, CONTACTS));
      console.log(`seed: ${CONTACTS} contacts in ${seeded.seconds.toFixed(1)} s`);

      // 2. Segment previews.
      await db.raw('analyze contacts');
      const byCity = await preview(db, [{ path: 'city', op: 'eq', value: 'Oslo' }]);
      const byAge = await preview(db, [{ path: 'age', op: 'gt', value: 60 }]);
      console.log(`segment preview: city = Oslo ${byCity.value.count} in ${(byCity.seconds * 1000).toFixed(0)} ms (${byCity.plan}); age > 60 ${byAge.value.count} in ${(byAge.seconds * 1000).toFixed(0)} ms (${byAge.plan})`);

      // 3. The campaign.
      const [template] = await db('campaign_templates').insert({ name: 'bench', channel: 'sms', body: 'Hi {{ first_name }}, spring offers are here.', placeholders: ['first_name'] }).returning<Array<{ id: string }>>('id');
      const [segment] = await db('segments').insert({ name: 'everyone', filters: JSON.stringify([{ path: 'bench', op: 'eq', value: true }]) }).returning<Array<{ id: string }>>('id');
      const [campaign] = await db('campaigns')
        .insert({ name: 'bench', template_id: template?.id, segment_id: segment?.id, channel: 'sms', rate_per_second: RATE, status: 'planning', launched_at: db.fn.now() })
        .returning<Array<{ id: string }>>('id');
      const campaignId = campaign?.id as string;
      const startedAt = Date.now();
      const rollout = await timed(() =>
        withDeadline('the campaign', 6 * 3_600_000, client.workflow.execute<CampaignRolloutWorkflow>('campaignRollout', { taskQueue: TASK_QUEUE, workflowId: workflowIds.campaignRollout(campaignId), args: [{ campaignId }] })),
      );
      const row = await db('campaigns').where({ id: campaignId }).first<{ planned_at: Date; total: number }>();
      const sends = await db('sandbox_sms_messages')
        .where('reference', 'like', `campaign:${campaignId}:%`)
        .first<{ sent: string; duplicates: string; first: Date; last: Date }>(db.raw('count(*) as sent, coalesce(sum(sends - 1), 0) as duplicates, min(sent_at) as first, max(sent_at) as last'));
      const busiest = await db.raw<{ rows: Array<{ n: string }> }>(
        `select max(n) as n from (select count(*) over (order by sent_at range between current row and interval '999 milliseconds' following) as n
           from sandbox_sms_messages where reference like ?) w`,
        [`campaign:${campaignId}:%`],
      );
      const sendSeconds = (sends.last.getTime() - sends.first.getTime()) / 1000;
      const campaignPeakRssMb = peakRssBytes / 1024 / 1024;

      return {
        contacts: CONTACTS,
        seedSeconds: seeded.seconds,
        segmentPreviewMs: { indexedEquality: byCity.seconds * 1000, rangeOverAll: byAge.seconds * 1000 },
        segmentPlans: { indexedEquality: byCity.plan, rangeOverAll: byAge.plan },
        campaign: {
          planned: row.total,
          planningSeconds: (row.planned_at.getTime() - startedAt) / 1000,
          rolloutSeconds: rollout.seconds,
          sent: Number(sends.sent),
          duplicates: Number(sends.duplicates),
          rateLimitPerSecond: RATE,
          achievedPerSecond: Number(sends.sent) / sendSeconds,
          busiestSecond: Number(busiest.rows[0]?.n ?? 0),
          workerPeakRssMb: campaignPeakRssMb,
        },
        largestHistory: await largestHistory(client),
      };
    });
    const result = summary;
    const c = result.campaign;
    console.log(`campaign: ${c.planned} planned in ${c.planningSeconds.toFixed(1)} s; ${c.sent} sent in ${c.rolloutSeconds.toFixed(1)} s`);
    console.log(`rate: ${c.achievedPerSecond.toFixed(0)}/s achieved over the run, busiest second ${c.busiestSecond}, limit ${RATE}/s`);
    console.log(`duplicates: ${c.duplicates}; worker peak RSS ${c.workerPeakRssMb.toFixed(0)} MB during the campaign; largest history ${result.largestHistory.events} events (${result.largestHistory.workflowId})`);
    if (c.duplicates !== 0 || c.sent !== c.planned) throw new Error(`expected ${c.planned} sends and no duplicate, got ${c.sent} and ${c.duplicates}`);

    const file = join(__dirname, 'results', `campaigns-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    await mkdir(join(__dirname, 'results'), { recursive: true });
    const environment = { node: process.version, cpus: cpus().length, external: Boolean(process.env.DATABASE_URL), temporal: 'dev server (in-memory)' };
    await writeFile(file, JSON.stringify({ bench: 'campaigns', at: new Date().toISOString(), environment, ...result }, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    clearInterval(sampler);
    await db.destroy();
    await temporal.teardown();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

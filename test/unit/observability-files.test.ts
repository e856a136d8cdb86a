import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';

/** The Grafana dashboard and the Prometheus configuration read what finflow exports. */
const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(resolve(ROOT, path), 'utf8');

describe('observability files', () => {
  const dashboard = JSON.parse(read('ops/grafana/dashboards/finflow.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('the dashboard names only finflow metrics the API or the worker defines', () => {
    const sources = read('src/api/core/metrics.ts') + read('src/observability/worker-metrics.ts');
    const names = new Set(exprs.flatMap((e) => [...e.matchAll(/finflow_[a-z_]+?(?=_bucket|\(|\[|\{|"|$)/g)].map((m) => m[0])));
    assert.deepEqual([...names].filter((name) => !sources.includes(`'${name}'`)), []);
    assert.ok(names.size >= 7, [...names].join(', '));
  });

  it('Prometheus scrapes the API with the metrics token and the worker on its metrics port', () => {
    const config = parse(read('ops/prometheus/prometheus.yml')) as { scrape_configs: Array<{ job_name: string; authorization?: object; static_configs: Array<{ targets: string[] }> }> };
    const jobs = Object.fromEntries(config.scrape_configs.map((job) => [job.job_name, { targets: job.static_configs[0]?.targets, auth: Boolean(job.authorization) }]));
    assert.deepEqual(jobs, { 'finflow-api': { targets: ['api:3000'], auth: true }, 'finflow-worker': { targets: ['worker:9464'], auth: false } });
  });
});

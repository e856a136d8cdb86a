import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * `npm run bench`: runs every benchmark, one after another, each in its own process. A
 * benchmark is whatever package.json names `bench:<name>`, so helper modules in bench/
 * are never mistaken for one.
 */
const { scripts } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const benches = Object.keys(scripts).filter((name) => name.startsWith('bench:'));

let failed = 0;
for (const name of benches) {
  console.log(`\n== npm run ${name}`);
  const run = spawnSync('npm', ['run', '--silent', name], { stdio: 'inherit' });
  if (run.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;

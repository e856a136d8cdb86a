import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/**
 * The production entry points, run as `npm run api|worker|migrate` would run them but
 * from source, with NODE_ENV unset and no secrets: each must refuse to start, naming the
 * development secrets it will not fall back to and the sandbox money providers.
 */

const ROOT = join(__dirname, '..', '..');
const DEADLINE_MS = 30_000;

interface Exit {
  code: number | null;
  stderr: string;
}

/** Runs an entry point with only PATH (and a harmless listen address) in its environment. */
function run(entry: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // PORT 0 and loopback: should an entry point wrongly start, it binds nothing shared.
    const env = { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEADLINE_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

describe('production entry points with NODE_ENV unset', function () {
  this.timeout(DEADLINE_MS + 10_000);

  for (const entry of ['src/api/main.ts', 'src/worker/main.ts', 'src/db/migrate.ts']) {
    it(`${entry} refuses development secrets and sandbox money providers`, async () => {
      const { code, stderr } = await run(entry);
      assert.equal(code, 1, stderr);
      for (const name of ['JWT_SECRET', 'SERVICE_TOKEN', 'FUNDING_PROVIDER', 'BILLER_PROVIDER']) assert.match(stderr, new RegExp(`- ${name}: `), stderr);
    });
  }
});

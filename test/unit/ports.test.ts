import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Db } from '../../src/db/knex';
import { createPorts } from '../../src/worker/deps';
import { testConfig } from '../helpers/services';

/**
 * Config becomes ports in one place (src/worker/deps.ts): the adapter each port gets is
 * the one config names, and no entry point builds a provider of its own.
 */

const ROOT = join(__dirname, '..', '..');
/** Nothing is queried while ports are built: the adapters take the pool and use it later. */
const db = {} as Db;
const namesOf = (env: NodeJS.ProcessEnv) => {
  const ports = createPorts(testConfig(env), { db });
  return { sms: ports.sms.name, funding: ports.funding.name, billers: ports.billers.name };
};

/** Calls that construct a provider adapter. */
const PROVIDER_CONSTRUCTORS =
  /\b(createSandboxFundingProcessor|createStripeFundingProcessor|createSandboxBillerPort|createHttpBillerPort|createBillerPort|createSmsProvider|createPlivoSms|createTwilioSms|createSandboxSms|createS3Storage|createSandboxNotifier|createNotifier)\(/g;
/** Adapter modules compose one another; every other module must go through createPorts. */
const ADAPTER_DIRS = ['src/providers/', 'src/payments/billers/'];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => relative(ROOT, join(entry.parentPath, entry.name)));
}

describe('createPorts', () => {
  it('builds the sandboxes when config names them', () => {
    assert.deepEqual(namesOf({}), { sms: 'sandbox', funding: 'sandbox', billers: 'sandbox' });
  });

  it('builds the Stripe funding processor when FUNDING_PROVIDER=stripe', () => {
    assert.equal(namesOf({ FUNDING_PROVIDER: 'stripe', STRIPE_SECRET_KEY: 'sk_test_example' }).funding, 'stripe');
  });

  it('builds the HTTP biller port when BILLER_PROVIDER=http', () => {
    assert.equal(namesOf({ BILLER_PROVIDER: 'http', BILLER_API_URL: 'http://127.0.0.1:1', BILLER_API_KEY: 'key' }).billers, 'http');
  });

  it('is the only module outside the adapters that constructs a provider', () => {
    const offenders = [...sourceFiles('src'), ...sourceFiles('bench')]
      .filter((file) => file !== 'src/worker/deps.ts' && !ADAPTER_DIRS.some((dir) => file.startsWith(dir)))
      .flatMap((file) => [...readFileSync(join(ROOT, file), 'utf8').matchAll(PROVIDER_CONSTRUCTORS)].map((m) => `${file}: ${m[1]}`));
    assert.deepEqual(offenders, []);
  });
});

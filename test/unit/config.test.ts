import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, envSchema, loadConfig } from '../../src/config';

const production = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://u:p@db:5432/finflow',
  TEMPORAL_ADDRESS: 'temporal:7233',
  JWT_SECRET: 'x'.repeat(40),
  SERVICE_TOKEN: 'y'.repeat(20),
  FUNDING_PROVIDER: 'stripe',
  STRIPE_SECRET_KEY: 'sk_live_example',
  BILLER_PROVIDER: 'http',
  BILLER_API_URL: 'https://billers.example',
  BILLER_API_KEY: 'biller-key',
  PAYLOAD_CODEC_KEYS: `prod-1:${Buffer.alloc(32, 7).toString('base64')}`,
};

/** The problems loadConfig lists for an environment; [] when it accepts it. */
function problemsOf(env: NodeJS.ProcessEnv, options?: Parameters<typeof loadConfig>[1]): string[] {
  try {
    loadConfig(env, options);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

const DEV_JWT_SECRET = 'finflow-development-secret-do-not-use-in-production';
const DEV_SERVICE_TOKEN = 'finflow-dev-service-token';

describe('config', () => {
  it('runs with no configuration at all in development (npm start)', () => {
    const config = loadConfig({}, { defaultEnv: 'development' });
    assert.equal(config.env, 'development');
    assert.equal(config.http.port, 3000);
    assert.equal(config.database.url, undefined);
    assert.equal(config.log.format, 'pretty');
  });

  it('accepts a complete production environment and logs JSON there', () => {
    const config = loadConfig(production);
    assert.equal(config.database.url, production.DATABASE_URL);
    assert.equal(config.log.format, 'json');
  });

  it('lists every problem at once', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', PORT: 'abc', JWT_SECRET: 'short' }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const text = err.problems.join('\n');
        for (const name of ['PORT', 'JWT_SECRET', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'SERVICE_TOKEN']) assert.match(text, new RegExp(name));
        return true;
      },
    );
  });

  it('refuses development secrets in production', () => {
    const { JWT_SECRET: _secret, ...withoutSecret } = production;
    assert.throws(() => loadConfig(withoutSecret), /JWT_SECRET/);
  });

  it('turns on TLS when a Temporal API key is set', () => {
    assert.equal(loadConfig({ NODE_ENV: 'development', TEMPORAL_API_KEY: 'key' }).temporal.tls, true);
    assert.equal(loadConfig({ NODE_ENV: 'development' }).temporal.tls, false);
  });

  it('splits CORS origins', () => {
    assert.deepEqual(loadConfig({ NODE_ENV: 'development', CORS_ORIGINS: 'https://a.example, https://b.example' }).http.corsOrigins, [
      'https://a.example',
      'https://b.example',
    ]);
  });

  describe('secrets fail closed', () => {
    it('treats an unset NODE_ENV as production', () => {
      assert.equal(loadConfig({ ...production, NODE_ENV: undefined }).env, 'production');
    });

    it('refuses to start with no configuration when NODE_ENV is unset', () => {
      const problems = problemsOf({}).join('\n');
      for (const name of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'JWT_SECRET', 'SERVICE_TOKEN']) assert.match(problems, new RegExp(`^${name}:`, 'm'));
    });

    it('refuses the development JWT secret when NODE_ENV is unset', () => {
      assert.match(problemsOf({ ...production, NODE_ENV: undefined, JWT_SECRET: DEV_JWT_SECRET }).join('\n'), /^JWT_SECRET: .*development/m);
    });

    it('refuses the development service token when NODE_ENV is unset', () => {
      assert.match(problemsOf({ ...production, NODE_ENV: undefined, SERVICE_TOKEN: DEV_SERVICE_TOKEN }).join('\n'), /^SERVICE_TOKEN: .*development/m);
    });

    it('refuses the development secrets in production', () => {
      const problems = problemsOf({ ...production, JWT_SECRET: DEV_JWT_SECRET, SERVICE_TOKEN: DEV_SERVICE_TOKEN });
      assert.deepEqual(problems.map((p) => p.split(':')[0]), ['JWT_SECRET', 'SERVICE_TOKEN']);
    });

    for (const env of ['development', 'test']) {
      it(`accepts the development secrets when NODE_ENV=${env}`, () => {
        const config = loadConfig({ NODE_ENV: env });
        assert.equal(config.auth.jwtSecret, DEV_JWT_SECRET);
        assert.equal(config.auth.serviceToken, DEV_SERVICE_TOKEN);
      });
    }
  });

  describe('money providers', () => {
    const { FUNDING_PROVIDER: _f, STRIPE_SECRET_KEY: _k, BILLER_PROVIDER: _b, BILLER_API_URL: _u, BILLER_API_KEY: _a, ...onSandboxes } = production;

    it('runs development on the sandbox funding processor and billers', () => {
      const config = loadConfig({ NODE_ENV: 'development' });
      assert.deepEqual([config.funding.provider, config.billers.provider], ['sandbox', 'sandbox']);
    });

    it('refuses the sandbox funding processor in production, naming ALLOW_SANDBOX_PROVIDERS', () => {
      const problem = problemsOf({ ...production, FUNDING_PROVIDER: 'sandbox' });
      assert.equal(problem.length, 1);
      assert.match(problem[0]!, /^FUNDING_PROVIDER: .*ALLOW_SANDBOX_PROVIDERS=true/);
    });

    it('refuses sandbox billers in production, naming ALLOW_SANDBOX_PROVIDERS', () => {
      const problem = problemsOf({ ...production, BILLER_PROVIDER: 'sandbox' });
      assert.equal(problem.length, 1);
      assert.match(problem[0]!, /^BILLER_PROVIDER: .*ALLOW_SANDBOX_PROVIDERS=true/);
    });

    it('refuses a production environment that names no money provider, with the other problems', () => {
      const problems = problemsOf({ ...onSandboxes, JWT_SECRET: 'short' });
      assert.deepEqual(problems.map((p) => p.split(':')[0]).sort(), ['BILLER_PROVIDER', 'FUNDING_PROVIDER', 'JWT_SECRET']);
    });

    it('runs production on sandboxes only with ALLOW_SANDBOX_PROVIDERS=true', () => {
      const config = loadConfig({ ...onSandboxes, ALLOW_SANDBOX_PROVIDERS: 'true' });
      assert.deepEqual([config.funding.provider, config.billers.provider], ['sandbox', 'sandbox']);
    });

    it('requires STRIPE_SECRET_KEY with FUNDING_PROVIDER=stripe', () => {
      assert.deepEqual(problemsOf({ NODE_ENV: 'test', FUNDING_PROVIDER: 'stripe' }), ['STRIPE_SECRET_KEY: required when FUNDING_PROVIDER=stripe']);
    });

    it('requires the biller API URL and key with BILLER_PROVIDER=http', () => {
      assert.deepEqual(problemsOf({ NODE_ENV: 'test', BILLER_PROVIDER: 'http' }), [
        'BILLER_API_URL: required when BILLER_PROVIDER=http',
        'BILLER_API_KEY: required when BILLER_PROVIDER=http',
      ]);
    });

    it('rejects a BILLER_API_URL that is not an absolute URL', () => {
      assert.deepEqual(problemsOf({ ...production, BILLER_API_URL: 'billers.example' }), ['BILLER_API_URL: must be an absolute http(s) URL']);
    });
  });

  it('documents every variable in the README configuration table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, []);
  });
});

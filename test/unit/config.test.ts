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
  PAYLOAD_CODEC_KEYS: `prod-1:${Buffer.alloc(32, 7).toString('base64')}`,
};

describe('config', () => {
  it('runs with no configuration at all in development', () => {
    const config = loadConfig({});
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
    assert.equal(loadConfig({ TEMPORAL_API_KEY: 'key' }).temporal.tls, true);
    assert.equal(loadConfig({}).temporal.tls, false);
  });

  it('splits CORS origins', () => {
    assert.deepEqual(loadConfig({ CORS_ORIGINS: 'https://a.example, https://b.example' }).http.corsOrigins, [
      'https://a.example',
      'https://b.example',
    ]);
  });

  it('documents every variable in the README configuration table', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, []);
  });
});

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { envSchema, loadConfig } from '../../src/config';

/**
 * No Docker engine runs here, so the production stack is checked by reading it: the
 * compose file must start every service in the right order, and the environment it
 * hands the finflow image must be one that src/config.ts accepts in production.
 */

const ROOT = resolve(__dirname, '../..');
const APP_SERVICES = ['migrate', 'api', 'worker'] as const;
const REQUIRED_SERVICES = ['postgres', 'temporal', 'temporal-ui', ...APP_SERVICES];
/** Stands in for a `${VAR:?message}` the operator must set; long enough for every secret. */
const SAMPLE_SECRET = 'sample-secret-value-for-compose-tests-0123456789';
/** Stands in for a required `${…_URL:?message}`. */
const SAMPLE_URL = 'https://operator-supplied.example';
/** Environment variables that carry a credential, by name. */
const CREDENTIAL = /(PASSWORD|PWD|SECRET|TOKEN|_KEY|ROOT_USER)$/;
/** The only services a host may reach: the API, and the Web UI and Grafana behind their own sign-in. */
const PUBLISHED_SERVICES = ['api', 'grafana', 'temporal-ui'];
/** Variables whose value has a shape of its own stand in with a sample of that shape. */
const SAMPLES: Record<string, string> = { PAYLOAD_CODEC_KEYS: `sample:${Buffer.alloc(32, 1).toString('base64')}` };

interface DependsOnEntry {
  condition?: string;
}

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: (string | number | { target?: number; published?: string | number })[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, DependsOnEntry>;
}

interface ComposeFile {
  services: Record<string, ComposeService>;
}

function loadCompose(): ComposeFile {
  const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  // Compose honours YAML merge keys (`<<: *finflow-env`); YAML 1.2 needs them enabled.
  return parse(text, { merge: true }) as ComposeFile;
}

function service(compose: ComposeFile, name: string): ComposeService {
  const found = compose.services[name];
  assert.ok(found, `service ${name} is missing`);
  return found;
}

/** A service's environment as name → raw value, whichever of the two compose forms it uses. */
function environmentOf(svc: ComposeService): Record<string, string> {
  const env = svc.environment ?? {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env).map(([key, value]) => [key, value === null ? '' : String(value)]));
}

/**
 * Compose's variable substitution with nothing set in the shell: `${VAR:-default}` and
 * `${VAR-default}` give the default, `${VAR:?msg}` / `${VAR?msg}` would stop compose until
 * the operator sets VAR (a sample value stands in), plain `${VAR}` / `$VAR` give ''.
 */
function interpolate(value: string): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*)|(:?\?)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (match: string, name?: string, defaultOp?: string, fallback?: string, requiredOp?: string) => {
      if (match === '$$') return '$';
      if (defaultOp) return fallback ?? '';
      if (requiredOp) return SAMPLES[name ?? ''] ?? (name?.endsWith('_URL') ? SAMPLE_URL : SAMPLE_SECRET);
      return '';
    },
  );
}

interface PortMapping {
  published: number | undefined;
  target: number;
}

function portsOf(svc: ComposeService): PortMapping[] {
  return (svc.ports ?? []).map((port) => {
    if (typeof port === 'object') {
      return { published: port.published === undefined ? undefined : Number(port.published), target: Number(port.target) };
    }
    // HOST:CONTAINER, IP:HOST:CONTAINER or CONTAINER alone, optionally with /protocol.
    const parts = String(port).replace(/\/(tcp|udp)$/, '').split(':');
    const target = Number(parts[parts.length - 1]);
    const published = parts.length > 1 ? Number(parts[parts.length - 2]) : undefined;
    return { published, target };
  });
}

function dependsOn(svc: ComposeService): Record<string, DependsOnEntry> {
  const deps = svc.depends_on ?? {};
  // The list form carries no condition at all.
  return Array.isArray(deps) ? Object.fromEntries(deps.map((name) => [name, {}])) : deps;
}

/** Splits an image reference into its tag (undefined when absent), ignoring any digest. */
function imageTag(image: string): string | undefined {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.slice(withoutDigest.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon === -1 ? undefined : lastSegment.slice(colon + 1);
}

describe('docker-compose.yml', () => {
  let compose: ComposeFile;

  before(() => {
    compose = loadCompose();
  });

  it('defines every service of the production-shaped stack', () => {
    const missing = REQUIRED_SERVICES.filter((name) => !(name in compose.services));
    assert.deepEqual(missing, []);
  });

  it('gives every service an image or a build context', () => {
    const without = Object.entries(compose.services)
      .filter(([, svc]) => svc.image === undefined && svc.build === undefined)
      .map(([name]) => name);
    assert.deepEqual(without, []);
  });

  it('pins every image to an explicit tag other than latest', () => {
    const unpinned = Object.entries(compose.services)
      .filter(([, svc]) => svc.image !== undefined)
      .filter(([, svc]) => {
        const tag = imageTag(svc.image ?? '');
        return tag === undefined || tag === '' || tag === 'latest';
      })
      .map(([name, svc]) => `${name}: ${svc.image}`);
    assert.deepEqual(unpinned, []);
  });

  const publishedPorts: [string, number, number][] = [
    ['api', 3000, 3000],
    ['temporal-ui', 8233, 8080],
  ];
  for (const [name, published, target] of publishedPorts) {
    it(`publishes ${name} on host port ${published} (container port ${target})`, () => {
      assert.ok(
        portsOf(service(compose, name)).some((p) => p.published === published && p.target === target),
        `${name} ports: ${JSON.stringify(service(compose, name).ports ?? [])}`,
      );
    });
  }

  it('publishes no port of Temporal, PostgreSQL, Prometheus or storage: only the API, the Web UI and Grafana', () => {
    const published = Object.entries(compose.services)
      .filter(([, svc]) => (svc.ports ?? []).length > 0)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(published, PUBLISHED_SERVICES);
  });

  it('puts the Temporal Web UI behind its own OIDC sign-in, with operator-supplied client settings', () => {
    const env = environmentOf(service(compose, 'temporal-ui'));
    assert.equal(env.TEMPORAL_AUTH_ENABLED, 'true');
    assert.equal(env.TEMPORAL_AUTH_TYPE, 'oidc');
    for (const key of ['TEMPORAL_AUTH_PROVIDER_URL', 'TEMPORAL_AUTH_CLIENT_ID', 'TEMPORAL_AUTH_CLIENT_SECRET']) {
      assert.match(env[key] ?? '', /^\$\{[A-Z_]+:\?.+\}$/, `${key} must be \${VAR:?message}`);
    }
  });

  for (const name of REQUIRED_SERVICES) {
    it(`gives ${name} no default credentials: each one is \${VAR:?message}`, () => {
      const env = environmentOf(service(compose, name));
      const defaulted = Object.entries(env)
        .filter(([key]) => CREDENTIAL.test(key))
        .filter(([, value]) => !/^\$\{[A-Z_]+:\?[^}]+\}$/.test(value))
        .map(([key, value]) => `${key}=${value}`);
      assert.deepEqual(defaulted, []);
    });
  }

  it('takes the database password in DATABASE_URL from the operator, not a literal', () => {
    for (const name of APP_SERVICES) {
      const url = environmentOf(service(compose, name)).DATABASE_URL ?? '';
      assert.match(url, /^postgres:\/\/[^:]+:\$\{POSTGRES_PASSWORD:\?[^}]+\}@/, `${name}: ${url}`);
    }
  });

  for (const name of APP_SERVICES) {
    it(`runs ${name} on the real money providers, not the sandboxes`, () => {
      const env = environmentOf(service(compose, name));
      assert.deepEqual([env.FUNDING_PROVIDER, env.BILLER_PROVIDER, env.ALLOW_SANDBOX_PROVIDERS], ['stripe', 'http', undefined]);
    });
  }

  for (const name of APP_SERVICES) {
    it(`sets only variables that src/config.ts reads on ${name}`, () => {
      const known = new Set(Object.keys(envSchema.shape));
      const unknown = Object.keys(environmentOf(service(compose, name))).filter((key) => !known.has(key));
      assert.deepEqual(unknown, []);
    });
  }

  for (const name of APP_SERVICES) {
    it(`hands ${name} an environment that loadConfig accepts in production`, () => {
      const raw = environmentOf(service(compose, name));
      const env = Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, interpolate(value)]));
      const config = loadConfig(env);
      assert.equal(config.env, 'production');
    });
  }

  for (const name of APP_SERVICES) {
    it(`makes the operator supply JWT_SECRET, SERVICE_TOKEN and PAYLOAD_CODEC_KEYS for ${name}`, () => {
      const env = environmentOf(service(compose, name));
      for (const key of ['JWT_SECRET', 'SERVICE_TOKEN', 'PAYLOAD_CODEC_KEYS']) {
        assert.match(env[key] ?? '', new RegExp(`^\\$\\{${key}:\\?.+\\}$`), `${key} must be \${${key}:?message}`);
      }
    });
  }

  for (const name of ['postgres', 'temporal']) {
    it(`checks the health of ${name}`, () => {
      const healthcheck = service(compose, name).healthcheck;
      assert.ok(healthcheck && healthcheck.disable !== true, `${name} has no healthcheck`);
      const test = Array.isArray(healthcheck.test) ? healthcheck.test : [healthcheck.test ?? ''];
      assert.ok(test.length > 0 && !['NONE', ''].includes(test[0] ?? ''), `${name} healthcheck has no test`);
    });
  }

  it('checks the api through GET /health/ready', () => {
    const test = service(compose, 'api').healthcheck?.test ?? [];
    const command = Array.isArray(test) ? test.join(' ') : test;
    assert.match(command, /:3000\/health\/ready/);
  });

  it('runs migrations once PostgreSQL is healthy, without restarting them', () => {
    const migrate = service(compose, 'migrate');
    assert.equal(dependsOn(migrate).postgres?.condition, 'service_healthy');
    assert.equal((migrate as { restart?: unknown }).restart, 'no');
  });

  for (const name of ['api', 'worker']) {
    it(`starts ${name} only after migrations succeeded`, () => {
      assert.equal(dependsOn(service(compose, name)).migrate?.condition, 'service_completed_successfully');
    });

    it(`starts ${name} only once Temporal is healthy`, () => {
      assert.equal(dependsOn(service(compose, name)).temporal?.condition, 'service_healthy');
    });
  }

  it('runs the worker entry point in the worker service', () => {
    const command = service(compose, 'worker').command ?? '';
    assert.match(Array.isArray(command) ? command.join(' ') : command, /dist\/src\/worker\/main\.js/);
  });

  it('runs the migration entry point in the migrate service', () => {
    const command = service(compose, 'migrate').command ?? '';
    assert.match(Array.isArray(command) ? command.join(' ') : command, /dist\/src\/db\/migrate\.js/);
  });
});

describe('Dockerfile', () => {
  const path = join(ROOT, 'Dockerfile');

  /** The instructions of the last stage (the image compose runs), continuation lines joined. */
  function runtimeStage(): string[] {
    const instructions = readFileSync(path, 'utf8')
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const lastFrom = instructions.map((line) => /^FROM\s/i.test(line)).lastIndexOf(true);
    return instructions.slice(lastFrom);
  }

  it('exists at the project root', () => {
    assert.ok(existsSync(path));
  });

  it('starts the API (dist/src/api/main.js) by default', () => {
    const cmd = runtimeStage().filter((line) => /^CMD\s/i.test(line)).pop() ?? '';
    assert.match(cmd, /dist\/src\/api\/main\.js/);
  });

  it('runs the final image as the non-root node user', () => {
    const user = runtimeStage().filter((line) => /^USER\s/i.test(line)).pop() ?? '';
    assert.match(user, /^USER\s+node$/i);
  });

  it('points WORKFLOW_BUNDLE_PATH at the bundle built into dist/', () => {
    const env = runtimeStage().filter((line) => /^ENV\s/i.test(line)).join(' ');
    assert.match(env, /WORKFLOW_BUNDLE_PATH=\/app\/dist\/workflow-bundle\.js/);
  });
});

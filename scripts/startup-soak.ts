import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/paths';

/**
 * Start-up soak: runs `npm run bench:payments` and `npm start` back to back, N times
 * each, beside a CPU-heavy process, and counts how each run ended: finished, failed
 * with a message, or hung (still running at the outer deadline, which the start-up
 * helper's deadlines should make impossible). Writes bench/results/startup-soak-*.json.
 *
 *   npx tsx scripts/startup-soak.ts [runs=20]
 *
 * SOAK_HANG_MS is the outer deadline per run (default 10 min). The payments bench runs
 * small (BENCH_PAYMENTS=32, one round): what is measured is its start-up and teardown.
 * `npm start` counts as finished when it prints its banner and, after a Ctrl-C (SIGINT
 * to its process group), stops everything in order ("finflow stopped").
 */

const RUNS = Number(process.argv[2] ?? 20);
const HANG_MS = Number(process.env.SOAK_HANG_MS ?? 10 * 60_000);

type Outcome = 'finished' | 'failed' | 'hung';
interface Run {
  command: string;
  run: number;
  outcome: Outcome;
  seconds: number;
  /** The first line of the failure message, when it failed. */
  message?: string;
}

/** One core kept busy for the whole soak, as another build or test run would. */
function burnCpu(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) Math.sqrt(Math.random());'], { stdio: 'ignore' });
}

function runOnce(command: string, args: string[], env: NodeJS.ProcessEnv, onOutput?: (text: string, child: ChildProcess) => void): Promise<{ code: number | null; output: string; hung: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    let hung = false;
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      onOutput?.(output, child);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const timer = setTimeout(() => {
      hung = true;
      process.kill(-(child.pid as number), 'SIGKILL');
    }, HANG_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, hung });
    });
  });
}

function failureLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim());
  return lines.find((l) => /did not start|already in use|gave up after|failed to start|Error/.test(l)) ?? lines.filter(Boolean).slice(-1)[0] ?? '';
}

type Attempt = { code: number | null; output: string; hung: boolean };

async function soak(command: string, run: number, attempt: () => Promise<Attempt>, succeeded: (a: Attempt) => boolean): Promise<Run> {
  const started = Date.now();
  const result0 = await attempt();
  const { output, hung } = result0;
  const seconds = (Date.now() - started) / 1000;
  const outcome: Outcome = hung ? 'hung' : succeeded(result0) ? 'finished' : 'failed';
  const result: Run = { command, run, outcome, seconds, ...(outcome === 'finished' ? {} : { message: failureLine(output) }) };
  console.log(`${command.padEnd(24)} #${String(run).padStart(2)}  ${outcome.padEnd(8)} ${seconds.toFixed(1).padStart(6)} s  ${result.message ?? ''}`);
  return result;
}

async function main(): Promise<void> {
  const burner = burnCpu();
  const runs: Run[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      runs.push(
        await soak('npm run bench:payments', run, () =>
          runOnce('npm', ['run', '--silent', 'bench:payments'], { BENCH_PAYMENTS: '32', BENCH_ROUNDS: '1' }),
          ({ code }) => code === 0,
        ),
      );
      const dataDir = await mkdtemp(join(tmpdir(), 'finflow-soak-'));
      let interrupted = false;
      runs.push(
        await soak('npm start', run, () =>
          runOnce('npm', ['start'], { FINFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'info', LOG_FORMAT: 'json' }, (output, child) => {
            // Ready: stop it the way a person does, with Ctrl-C (SIGINT to the process group).
            if (output.includes('Ctrl-C stops everything') && !interrupted) {
              interrupted = true;
              process.kill(-(child.pid as number), 'SIGINT');
            }
          }),
          // npm itself answers a Ctrl-C with 130; what counts is that finflow came up and stopped in order.
          ({ output }) => output.includes('Ctrl-C stops everything') && output.includes('finflow stopped') && !output.includes('failed to start'),
        ),
      );
      await rm(dataDir, { recursive: true, force: true });
    }
  } finally {
    burner.kill('SIGKILL');
  }
  const count = (command: string, outcome: Outcome) => runs.filter((r) => r.command === command && r.outcome === outcome).length;
  const summary = Object.fromEntries(
    ['npm run bench:payments', 'npm start'].map((command) => [command, { finished: count(command, 'finished'), failed: count(command, 'failed'), hung: count(command, 'hung') }]),
  );
  console.log(JSON.stringify(summary, null, 2));
  await mkdir(join(PROJECT_ROOT, 'bench', 'results'), { recursive: true });
  const file = join(PROJECT_ROOT, 'bench', 'results', `startup-soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, JSON.stringify({ at: new Date().toISOString(), cpus: cpus().length, runsPerCommand: RUNS, hangDeadlineMs: HANG_MS, summary, runs }, null, 2));
  console.log(`wrote ${file}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

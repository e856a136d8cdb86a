import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { findTool, installTool, missingToolMessage } from '../tools/binaries';

/**
 * stripe-mock (Stripe's API served offline from its OpenAPI spec) on a port the caller
 * chose, for the Stripe adapter's tests. The binary comes from the tools resolver
 * (STRIPE_MOCK_PATH, PATH, `.tools/`, else `go install` of the pinned module).
 */

export interface StripeMockHandle {
  /** The base URL to give the adapter as STRIPE_API_URL. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const READY_DEADLINE_MS = 30_000;
const STOP_GRACE_MS = 5_000;

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.end();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

export async function startStripeMock({ port }: { port: number }): Promise<StripeMockHandle> {
  const tool = findTool('stripe-mock') ?? (installTool('stripe-mock') ? findTool('stripe-mock') : undefined);
  if (!tool) throw new Error(missingToolMessage('stripe-mock'));
  const child = spawn(tool.path, ['-http-addr', `127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4_000)));
  const stop = () => stopChild(child);

  const deadline = Date.now() + READY_DEADLINE_MS;
  while (!(await portAnswers(port))) {
    if (child.exitCode !== null) throw new Error(`stripe-mock exited with code ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`stripe-mock did not answer on port ${port} within ${READY_DEADLINE_MS} ms:\n${output}`);
    }
    await delay(50);
  }
  return { url: `http://127.0.0.1:${port}`, port, stop };
}

import { mkdir } from 'node:fs/promises';
import { findTool, installTool, missingToolMessage } from '../tools/binaries';
import { isListening } from './ports';
import { startService } from './service';

/**
 * versitygw: a real S3 server over a local folder that verifies SigV4 signatures (a
 * presigned link that is changed or expired gets 403), for `npm start` and the tests,
 * under the start-up helper. The binary comes from the tools resolver (VERSITYGW_PATH,
 * PATH, `.tools/`, else `go install` of the pinned module).
 */

export interface LocalS3Handle {
  endpoint: string;
  port: number;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

export interface LocalS3Options {
  /** Where the objects live (one folder per bucket). */
  dataDir: string;
  /** A fixed port (`npm start`), or undefined to pick a free one. */
  port?: number;
  portEnvVar?: string;
  accessKeyId: string;
  secretAccessKey: string;
  timeoutMs: number;
}

export async function startLocalS3(options: LocalS3Options): Promise<LocalS3Handle> {
  const tool = findTool('versitygw') ?? (installTool('versitygw') ? findTool('versitygw') : undefined);
  if (!tool) throw new Error(missingToolMessage('versitygw'));
  await mkdir(options.dataDir, { recursive: true });
  const server = await startService({
    name: 'S3 server (versitygw)',
    ports: { http: { port: options.port, envVar: options.portEnvVar } },
    command: tool.path,
    args: ({ http }) => ['--port', `127.0.0.1:${http}`, 'posix', options.dataDir],
    env: { ...process.env, ROOT_ACCESS_KEY: options.accessKeyId, ROOT_SECRET_KEY: options.secretAccessKey },
    ready: ({ http }) => isListening(http),
    timeoutMs: options.timeoutMs,
    stopTimeoutMs: 5_000,
  });
  const { http } = server.ports;
  return { endpoint: `http://127.0.0.1:${http}`, port: http, accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey, stop: () => server.stop() };
}

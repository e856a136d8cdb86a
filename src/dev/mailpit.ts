import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { findTool, installTool, missingToolMessage } from '../tools/binaries';
import { isListening } from './ports';
import { startService } from './service';

/**
 * mailpit: a real SMTP server that keeps every mail it receives, with a web UI and an
 * HTTP API (`GET /api/v1/messages`), so a person running `npm start` sees the emails
 * finflow sent. The binary comes from the tools resolver (MAILPIT_PATH, PATH, `.tools/`,
 * else `go install` of the pinned module), started under the start-up helper.
 */

export interface MailpitHandle {
  smtpPort: number;
  uiUrl: string;
  stop(): Promise<void>;
}

export async function startMailpit(options: { dataDir: string; smtpPort?: number; uiPort?: number; timeoutMs: number }): Promise<MailpitHandle> {
  const tool = findTool('mailpit') ?? (installTool('mailpit') ? findTool('mailpit') : undefined);
  if (!tool) throw new Error(missingToolMessage('mailpit'));
  await mkdir(options.dataDir, { recursive: true });
  const server = await startService({
    name: 'mail catcher (mailpit)',
    ports: { smtp: { port: options.smtpPort, envVar: 'LOCAL_MAILPIT_SMTP_PORT' }, ui: { port: options.uiPort, envVar: 'LOCAL_MAILPIT_UI_PORT' } },
    command: tool.path,
    args: ({ smtp, ui }) => ['--smtp', `127.0.0.1:${smtp}`, '--listen', `127.0.0.1:${ui}`, '--database', join(options.dataDir, 'mailpit.db')],
    ready: ({ smtp, ui }) => isListening(ui).then(async (up) => up && (await isListening(smtp))),
    timeoutMs: options.timeoutMs,
    stopTimeoutMs: 5_000,
  });
  return { smtpPort: server.ports.smtp, uiUrl: `http://127.0.0.1:${server.ports.ui}`, stop: () => server.stop() };
}

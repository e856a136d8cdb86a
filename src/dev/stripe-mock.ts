import { findTool, installTool, missingToolMessage } from '../tools/binaries';
import { isListening } from './ports';
import { startService } from './service';

/**
 * stripe-mock (Stripe's API served offline from its OpenAPI spec), for the Stripe
 * adapter's tests, under the start-up helper. The binary comes from the tools resolver
 * (STRIPE_MOCK_PATH, PATH, `.tools/`, else `go install` of the pinned module).
 */

export interface StripeMockHandle {
  /** The base URL to give the adapter as STRIPE_API_URL. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startStripeMock(options: { port?: number; timeoutMs: number }): Promise<StripeMockHandle> {
  const tool = findTool('stripe-mock') ?? (installTool('stripe-mock') ? findTool('stripe-mock') : undefined);
  if (!tool) throw new Error(missingToolMessage('stripe-mock'));
  const server = await startService({
    name: 'stripe-mock',
    ports: { http: { port: options.port } },
    command: tool.path,
    // Its HTTPS listener would take the fixed port 12112 unless told otherwise, so two
    // runs side by side collided: the system picks that port too.
    args: ({ http }) => ['-http-addr', `127.0.0.1:${http}`, '-https-addr', '127.0.0.1:'],
    ready: ({ http }) => isListening(http),
    timeoutMs: options.timeoutMs,
    stopTimeoutMs: 5_000,
  });
  const { http } = server.ports;
  return { url: `http://127.0.0.1:${http}`, port: http, stop: () => server.stop() };
}

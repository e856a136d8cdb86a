import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SmsSendError, type SmsProvider } from '../../src/providers/sms/port';

/**
 * A local HTTP server standing in for a provider's API (Plivo, Twilio, a biller), so the
 * provider's real SDK code path runs against it: each request is recorded with its raw
 * body, and `reply` answers it.
 */

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  /** The body as sent; parse it as the provider's format says (JSON, a form). */
  text: string;
}

export type Reply = (req: RecordedRequest, res: ServerResponse) => void;

export interface StandIn {
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export async function startStandIn(reply: Reply): Promise<StandIn> {
  const requests: RecordedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, text: Buffer.concat(chunks).toString('utf8') };
      requests.push(recorded);
      reply(recorded, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Answers with a JSON body and a status. */
export const json =
  (status: number, body: unknown): Reply =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

/**
 * Sends one SMS through an adapter built on a stand-in that answers with `reply`, and
 * returns the SmsSendError it fails with (a send that succeeds fails the test).
 */
export async function smsFailure(reply: Reply, build: (baseUrl: string) => SmsProvider): Promise<SmsSendError> {
  const standIn = await startStandIn(reply);
  try {
    const err = await build(standIn.baseUrl)
      .send({ to: '+447911123456', body: 'finflow: 10.50 GBP received', reference: 'alert:t1:sms' })
      .then(
        () => assert.fail('send should have failed'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof SmsSendError, `expected SmsSendError, got ${String(err)}`);
    return err;
  } finally {
    await standIn.close();
  }
}

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { appPorts, createPorts } from '../../src/worker/deps';
import { client } from '../helpers/http';
import { stack, testConfig, type Stack } from '../helpers/services';
import { signUpAndLogin, type SignedIn } from '../helpers/users';

/**
 * BILLER_PROVIDER=http end to end: an API configured for it (ports from createPorts,
 * as src/api/main.ts builds them) asks the biller aggregator, not the sandbox, who a
 * customer reference belongs to.
 */
describe('API on BILLER_PROVIDER=http (e2e)', function () {
  this.timeout(60_000);
  const API_KEY = 'aggregator-key';
  let s: Stack;
  let aggregator: Server;
  const asked: Array<{ authorization: string | undefined; body: unknown }> = [];
  let api: Server;
  let closeTemporal: () => Promise<void>;
  let alice: SignedIn;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    aggregator = createServer((req: IncomingMessage, res) => {
      let raw = '';
      req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
      req.on('end', () => {
        asked.push({ authorization: req.headers.authorization, body: JSON.parse(raw || '{}') });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ valid: true, customerName: 'Rémi Aggregated', amountDue: '7770' }));
      });
    }).listen(0, '127.0.0.1');
    await once(aggregator, 'listening');
    const env = { BILLER_PROVIDER: 'http', BILLER_API_URL: `http://127.0.0.1:${(aggregator.address() as AddressInfo).port}`, BILLER_API_KEY: API_KEY };
    const config = withServices(testConfig(env), s.config.database.url!, s.config.temporal.address!);
    const temporal = createClient(config.temporal);
    closeTemporal = () => temporal.connection.close();
    api = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
    await once(api, 'listening');
    alice = await signUpAndLogin(s.baseUrl);
  });

  after(async () => {
    for (const server of [api, aggregator]) {
      server.closeAllConnections();
      server.close();
    }
    await closeTemporal();
  });

  it("answers the aggregator's customer name and amount due", async () => {
    const http = client(`http://127.0.0.1:${(api.address() as AddressInfo).port}`);
    const res = await http('POST', '/v1/billers/brightgrid-power/validate', { token: alice.accessToken, body: { customerRef: '4820193755' } });
    assert.equal(res.status, 200);
    assert.deepEqual([res.body.customerName, res.body.amountDue], ['Rémi Aggregated', '7770']);
    assert.deepEqual(asked.at(-1), { authorization: `Bearer ${API_KEY}`, body: { billerId: 'brightgrid-power', customerRef: '4820193755' } });
  });
});

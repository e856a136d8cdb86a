import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { parse } from 'csv-parse/sync';
import { createApp } from '../../src/api/app';
import { withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { appPorts, createPorts } from '../../src/worker/deps';
import { cardId, csv } from '../helpers/cards';
import { client } from '../helpers/http';
import { stack, testConfig, type Stack } from '../helpers/services';
import { eventually } from '../helpers/wait';

/**
 * The cards line through the API, the worker and the real servers: partner files
 * uploaded as raw CSV, their progress and rejects, and the status a holder reads with
 * their phone in any form.
 */
describe('card delivery status (e2e)', function () {
  this.timeout(120_000);
  let s: Stack;
  let api: ReturnType<typeof client>;
  let service: string;

  before(async function () {
    this.timeout(600_000);
    s = await stack();
    api = client(s.baseUrl);
    service = s.config.auth.serviceToken;
  });

  const upload = (partner: string, content: string, contentType = 'text/csv') =>
    api('POST', `/internal/v1/card-files?partner=${partner}`, { token: service, rawBody: content, headers: { 'content-type': contentType } });

  /** Uploads and waits until the file is no longer being read. */
  async function ingested(partner: string, content: string) {
    const res = await upload(partner, content);
    assert.ok([200, 202].includes(res.status), `upload answered ${res.status} ${JSON.stringify(res.body)}`);
    return eventually('the file to be read', async () => {
      const file = await api('GET', `/internal/v1/card-files/${res.body.id}`, { token: service });
      return ['completed', 'rejected'].includes(file.body.status) ? file.body : undefined;
    });
  }

  const pickup = (id: string, phone = '501234567', at = '14-11-2023 12:00PM') => csv('ID,Card ID,User Mobile,Timestamp', `1,${id},${phone},${at}`);

  it('ingests an uploaded file and reports its summary', async () => {
    const file = await ingested('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${cardId()},501234567,14-11-2023 12:00PM`, `2,,501234567,14-11-2023 12:00PM`));
    assert.deepEqual(
      { status: file.status, rows: file.rows, accepted: file.accepted, rejected: file.rejected, duplicates: file.duplicates, percent: file.progress.percent },
      { status: 'completed', rows: 2, accepted: 1, rejected: 1, duplicates: 0, percent: 100 },
    );
  });

  it('answers the same bytes uploaded again with the first file (200), ingested once', async () => {
    const content = pickup(cardId());
    const first = await ingested('courier-pickup', content);
    const again = await upload('courier-pickup', content);
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.id);
    assert.equal(again.headers.get('location'), `/internal/v1/card-files/${first.id}`);
  });

  it('serves the rejected rows as CSV with line numbers and reasons', async () => {
    const file = await ingested('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${cardId()},501234567,14-11-2023 12:00PM`, `2,${cardId()},12,14-11-2023 12:00PM`, `3,4111111111111111,501234567,14-11-2023 12:00PM`));
    const res = await api('GET', `/internal/v1/card-files/${file.id}/rejects`, { token: service });
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = parse<{ line: string; reason: string; row: string }>(res.body as string, { columns: true });
    assert.deepEqual(
      rows.map((r) => [r.line, r.reason.split(' ')[0], r.row.includes('4111111111111111')]),
      [
        ['3', 'the', false],
        ['4', 'a', false],
      ],
    );
  });

  it('records an upload in an unknown layout as rejected with the reason', async () => {
    const file = await ingested('courier-nobody', pickup(cardId()));
    assert.equal(file.status, 'rejected');
    assert.match(file.reason, /unknown layout/);
  });

  it('refuses an upload sent with a Content-Encoding (415)', async () => {
    const res = await api('POST', '/internal/v1/card-files?partner=courier-pickup', { token: service, rawBody: pickup(cardId()), headers: { 'content-type': 'text/csv', 'content-encoding': 'gzip' } });
    assert.equal(res.status, 415);
  });

  it('refuses an upload that is not sent as CSV (415)', async () => {
    const res = await upload('courier-pickup', '{}', 'application/json');
    assert.equal(res.status, 415);
  });

  for (const phone of ['501234567', '0501234567', '+971501234567', '+971 50 123 4567', '971-50-1234567']) {
    it(`shows the status and history to the holder's phone written ${JSON.stringify(phone)}`, async () => {
      const id = cardId();
      await ingested('courier-pickup', pickup(id, '+971 50 123 4567'));
      const res = await api('GET', `/v1/cards/${id}/status?phone=${encodeURIComponent(phone)}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { cardId: id, status: 'dispatched', statusAt: '2023-11-14T08:00:00.000Z', history: [{ status: 'dispatched', at: '2023-11-14T08:00:00.000Z', comment: null }] });
    });
  }

  it('answers a wrong phone and an unknown card with the same 404', async () => {
    const id = cardId();
    await ingested('courier-pickup', pickup(id));
    const wrongPhone = await api('GET', `/v1/cards/${id}/status?phone=502222222`);
    const unknown = await api('GET', `/v1/cards/${cardId()}/status?phone=501234567`);
    assert.equal(wrongPhone.status, 404);
    assert.deepEqual({ ...wrongPhone.body, instance: undefined, requestId: undefined }, { ...unknown.body, instance: undefined, requestId: undefined });
  });

  it('shows the support desk the status without a phone', async () => {
    const id = cardId();
    await ingested('courier-pickup', pickup(id));
    const res = await api('GET', `/internal/v1/cards/${id}/status`, { token: service });
    assert.equal(res.body.status, 'dispatched');
  });

  describe('limits (an API with low limits)', () => {
    const perCard = 2;
    let limited: { api: ReturnType<typeof client>; baseUrl: string; close: () => Promise<void> };

    before(async () => {
      const env = { CARD_STATUS_LIMIT_PER_CARD: String(perCard), CARD_STATUS_LIMIT_PER_ADDRESS: '4', CARD_FILE_MAX_BYTES: '64', TRUST_PROXY: '127.0.0.1,::1' };
      const config = withServices(testConfig({ ...env, S3_ENDPOINT: s.config.storage.endpoint, S3_ACCESS_KEY_ID: s.config.storage.accessKeyId, S3_SECRET_ACCESS_KEY: s.config.storage.secretAccessKey, S3_FORCE_PATH_STYLE: 'true', S3_BUCKET: s.config.storage.bucket }), s.config.database.url!, s.config.temporal.address!);
      const temporal = createClient(config.temporal);
      const server = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
      await once(server, 'listening');
      const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      limited = {
        api: client(baseUrl),
        baseUrl,
        close: async () => {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
          await temporal.connection.close();
        },
      };
    });
    after(async () => limited?.close());

    let octet = 0;
    const address = () => ({ 'x-forwarded-for': `198.51.100.${++octet}` });

    it(`answers 429 after ${perCard} lookups of one card, from any address`, async () => {
      const id = cardId();
      for (let i = 0; i < perCard; i++) assert.equal((await limited.api('GET', `/v1/cards/${id}/status?phone=501234567`, { headers: address() })).status, 404);
      const res = await limited.api('GET', `/v1/cards/${id}/status?phone=501234567`, { headers: address() });
      assert.equal(res.status, 429);
      assert.ok(Number(res.headers.get('retry-after')) > 0);
    });

    it('answers 429 after the per-address limit, whatever the card', async () => {
      const from = address();
      for (let i = 0; i < 4; i++) await limited.api('GET', `/v1/cards/${cardId()}/status?phone=501234567`, { headers: from });
      assert.equal((await limited.api('GET', `/v1/cards/${cardId()}/status?phone=501234567`, { headers: from })).status, 429);
    });

    it('refuses a file over CARD_FILE_MAX_BYTES with 413 by its Content-Length', async () => {
      const res = await limited.api('POST', '/internal/v1/card-files?partner=courier-pickup', { token: service, rawBody: pickup(cardId()).repeat(3), headers: { 'content-type': 'text/csv' } });
      assert.equal(res.status, 413);
    });

    it('refuses a file over CARD_FILE_MAX_BYTES with 413 when it is streamed without a length', async () => {
      const chunk = new TextEncoder().encode(pickup(cardId()));
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 3; i++) controller.enqueue(chunk);
          controller.close();
        },
      });
      const res = await fetch(`${limited.baseUrl}/internal/v1/card-files?partner=courier-pickup`, {
        method: 'POST',
        headers: { authorization: `Bearer ${service}`, 'content-type': 'text/csv' },
        body,
        duplex: 'half',
      });
      assert.equal(res.status, 413);
    });
  });
});

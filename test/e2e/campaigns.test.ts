import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import twilio from 'twilio';
import { createApp } from '../../src/api/app';
import { TWILIO_STATUS_WEBHOOK_PATH, withServices } from '../../src/config';
import { createLogger } from '../../src/logger';
import { createClient } from '../../src/temporal/client';
import { appPorts, createPorts } from '../../src/worker/deps';
import { consentingContacts, newRun, uniquePhone } from '../helpers/campaigns';
import { request, type RequestOptions } from '../helpers/http';
import { stack, testConfig, type Stack } from '../helpers/services';
import { createOperator } from '../helpers/users';
import { eventually } from '../helpers/wait';

/**
 * The campaigns API end to end on the shared stack (its worker runs the rollout on the
 * sandbox provider): contacts, templates, segments, campaigns and their bad input, a
 * CSV import with rejects, and Twilio's signed status callback.
 */
describe('campaigns API (e2e)', function () {
  this.timeout(180_000);
  let s: Stack;
  let token: string;
  const api = (method: string, path: string, options: RequestOptions = {}) => request(s.baseUrl, method, path, { token, ...options });

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    token = (await createOperator(s.baseUrl, s.db)).accessToken;
  });

  /** Contacts of a fresh run through the API, a template and a segment selecting them. */
  async function setUp(count: number, body = 'Hi {{ first_name }}') {
    const run = newRun();
    for (const contact of consentingContacts(run, count)) assert.equal((await api('POST', '/v1/contacts', { body: contact })).status, 200);
    const template = await api('POST', '/v1/templates', { body: { name: 'hello', channel: 'sms', body, placeholders: ['first_name'] } });
    const segment = await api('POST', '/v1/segments', { body: { name: run, filters: [{ path: 'run', op: 'eq', value: run }] } });
    return { run, templateId: template.body.id as string, segmentId: segment.body.id as string };
  }

  describe('contacts', () => {
    it('creates a contact with its phone in E.164 and updates it by phone', async () => {
      const phone = uniquePhone();
      const created = await api('POST', '/v1/contacts', { body: { phone: `${phone.slice(0, 5)} ${phone.slice(5)}`, attributes: { tier: 'gold' } } });
      const updated = await api('POST', '/v1/contacts', { body: { phone, attributes: { tier: 'silver' }, consent: { sms: { status: 'opt_in' } } } });
      assert.deepEqual([created.body.phone, updated.body.id, updated.body.attributes, updated.body.consent.sms.status], [phone, created.body.id, { tier: 'silver' }, 'opt_in']);
    });

    it('refuses an invalid phone, naming the field', async () => {
      const res = await api('POST', '/v1/contacts', { body: { phone: '+1415' } });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'phone']);
    });

    it('deletes a contact', async () => {
      const { body } = await api('POST', '/v1/contacts', { body: { phone: uniquePhone() } });
      assert.equal((await api('DELETE', `/v1/contacts/${body.id}`)).status, 204);
      assert.equal((await api('GET', `/v1/contacts/${body.id}`)).status, 404);
    });

    it('imports a CSV as a workflow, recording each rejected row with its reason', async () => {
      const run = newRun();
      const csv = [
        'mobile,timezone,attributes,consent',
        `${uniquePhone()},Europe/Paris,"{""run"":""${run}""}","{""sms"":""opt_in""}"`,
        `not-a-phone,UTC,"{}",`,
        `${uniquePhone()},Mars/Olympus,"{}",`,
        `${uniquePhone()},UTC,"{""run"":""${run}""}",`,
      ].join('\n');
      const started = await api('POST', '/v1/contacts/import', { body: { csv } });
      assert.equal(started.status, 202);
      const done = await eventually('the import to finish', async () => {
        const res = await api('GET', started.headers.get('location') as string);
        return res.body.status === 'completed' ? res.body : undefined;
      });
      assert.deepEqual(
        [done.rowsImported, done.rowsRejected, done.rejects.map((r: { row: number; reason: string }) => `${r.row} ${r.reason.split(':')[0]}`)],
        [2, 2, ['3 phone', '4 timezone']],
      );
    });
  });

  describe('templates and segments', () => {
    it('refuses a template with an undeclared placeholder, naming body', async () => {
      const res = await api('POST', '/v1/templates', { body: { name: 'x', channel: 'sms', body: 'Hi {{ nickname }}', placeholders: [] } });
      assert.deepEqual([res.status, res.body.errors[0].field, res.body.errors[0].code], [400, 'body', 'undeclared_placeholder']);
    });

    it('previews a template for a contact with its segment count (ë is not GSM-7), or its render error', async () => {
      const { templateId } = await setUp(0);
      const contact = (await api('POST', '/v1/contacts', { body: { phone: uniquePhone(), attributes: { first_name: 'Zoë' } } })).body;
      const bare = (await api('POST', '/v1/contacts', { body: { phone: uniquePhone() } })).body;
      const ok = await api('GET', `/v1/templates/${templateId}/preview?contactId=${contact.id}`);
      const broken = await api('GET', `/v1/templates/${templateId}/preview?contactId=${bare.id}`);
      assert.deepEqual([ok.body.text, ok.body.sms.encoding], ['Hi Zoë', 'UCS-2']);
      assert.equal(broken.body.error, 'missing_placeholder: first_name');
    });

    it('refuses a segment with an unknown operator, naming the field', async () => {
      const res = await api('POST', '/v1/segments', { body: { name: 'x', filters: [{ path: 'city', op: 'like', value: 'P%' }] } });
      assert.deepEqual([res.status, res.body.errors[0].field], [400, 'filters.0.op']);
    });

    it('previews a segment: its count and a sample', async () => {
      const { segmentId } = await setUp(3);
      const res = await api('GET', `/v1/segments/${segmentId}/preview?sample=2`);
      assert.deepEqual([res.body.count, res.body.sample.length], [3, 2]);
    });
  });

  describe('campaigns', () => {
    it('refuses a campaign whose template is for another channel, naming channel', async () => {
      const { templateId, segmentId } = await setUp(0);
      const res = await api('POST', '/v1/campaigns', { body: { name: 'c', templateId, segmentId, channel: 'whatsapp' } });
      assert.deepEqual([res.status, res.body.errors[0].field], [422, 'channel']);
    });

    it('launches a campaign and answers its per-status counts and progress', async () => {
      const { templateId, segmentId } = await setUp(4);
      const { body: campaign } = await api('POST', '/v1/campaigns', { body: { name: 'c', templateId, segmentId, channel: 'sms' } });
      assert.equal((await api('POST', `/v1/campaigns/${campaign.id}/launch`)).status, 202);
      const done = await eventually('the campaign to complete', async () => {
        const res = await api('GET', `/v1/campaigns/${campaign.id}`);
        return res.body.status === 'completed' ? res.body : undefined;
      });
      // The sandbox's receipts (on by default) have moved every message on to delivered.
      assert.deepEqual([done.total, done.counts.delivered, done.progress], [4, 4, 1]);
      const messages = await api('GET', `/v1/campaigns/${campaign.id}/messages?limit=3`);
      assert.deepEqual([messages.body.data.length, messages.body.data[0].status, typeof messages.body.nextCursor], [3, 'delivered', 'string']);
    });

    it('refuses to launch a cancelled campaign, naming the id', async () => {
      const { templateId, segmentId } = await setUp(0);
      const { body: campaign } = await api('POST', '/v1/campaigns', { body: { name: 'c', templateId, segmentId, channel: 'sms' } });
      assert.equal((await api('POST', `/v1/campaigns/${campaign.id}/cancel`)).body.status, 'cancelled');
      const res = await api('POST', `/v1/campaigns/${campaign.id}/launch`);
      assert.deepEqual([res.status, res.body.errors[0].field], [409, 'id']);
    });
  });

  describe('Twilio status callback', () => {
    const AUTH_TOKEN = 'twilio-e2e-auth-token-0123456789abcdef';
    const PUBLIC_URL = 'https://finflow.example';
    let signed: { baseUrl: string; close(): Promise<void> };

    before(async () => {
      const config = withServices(testConfig({ TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_URL }), s.config.database.url as string, s.config.temporal.address as string);
      const temporal = createClient(config.temporal);
      const server = createApp(config, { db: s.db, temporal, logger: createLogger(config), ...appPorts(createPorts(config, { db: s.db })) }).listen(0, '127.0.0.1');
      await once(server, 'listening');
      signed = {
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        async close() {
          server.closeAllConnections();
          await new Promise((resolve) => server.close(resolve));
          await temporal.connection.close();
        },
      };
    });

    after(() => signed.close());

    /** A sent campaign message Twilio knows as `sid`. */
    async function sentMessage(sid: string) {
      const { templateId, segmentId } = await setUp(1);
      const { body: campaign } = await api('POST', '/v1/campaigns', { body: { name: 'c', templateId, segmentId, channel: 'sms' } });
      const [contact] = await s.db('contacts').whereRaw(`attributes->>'run' = (select filters->0->>'value' from segments where id = ?)`, [segmentId]).select('id');
      await s.db('campaign_messages').insert({ campaign_id: campaign.id, seq: 1, contact_id: contact.id, status: 'sent', provider: 'twilio', provider_message_id: sid });
      return campaign.id as string;
    }

    const post = (params: Record<string, string>, signature?: string) =>
      request(signed.baseUrl, 'POST', TWILIO_STATUS_WEBHOOK_PATH, {
        rawBody: new URLSearchParams(params).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
      });
    const sign = (params: Record<string, string>) => twilio.getExpectedTwilioSignature(AUTH_TOKEN, `${PUBLIC_URL}${TWILIO_STATUS_WEBHOOK_PATH}`, params);

    it('moves a message forward and keeps the raw receipt', async () => {
      const sid = `SM${newRun().replace(/-/g, '')}`;
      const campaignId = await sentMessage(sid);
      const params = { MessageSid: sid, MessageStatus: 'delivered', To: '+14155550100' };
      const res = await post(params, sign(params));
      const row = await s.db('campaign_messages').where({ campaign_id: campaignId }).first();
      assert.deepEqual([res.body.outcome, row.status, row.receipts[0].MessageStatus], ['applied', 'delivered', 'delivered']);
    });

    it('never moves a message back', async () => {
      const sid = `SM${newRun().replace(/-/g, '')}`;
      const campaignId = await sentMessage(sid);
      for (const status of ['read', 'delivered']) {
        const params = { MessageSid: sid, MessageStatus: status };
        await post(params, sign(params));
      }
      assert.equal((await s.db('campaign_messages').where({ campaign_id: campaignId }).first()).status, 'read');
    });

    it('refuses a wrongly signed callback with 403 and stores nothing', async () => {
      const sid = `SM${newRun().replace(/-/g, '')}`;
      const campaignId = await sentMessage(sid);
      const params = { MessageSid: sid, MessageStatus: 'failed' };
      const res = await post(params, sign({ ...params, MessageStatus: 'delivered' }));
      const row = await s.db('campaign_messages').where({ campaign_id: campaignId }).first();
      assert.deepEqual([res.status, row.status, row.receipts], [403, 'sent', []]);
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { temporal as proto } from '@temporalio/proto';
import { temporal } from '@temporalio/proto';
import { workflowIds } from '../../src/temporal/names';
import { client } from '../helpers/http';
import { uniquePhone } from '../helpers/money';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';

/**
 * The payload codec end to end: a wallet funding runs through the API and worker, its
 * raw history (read with a client that has no codec, as anyone with access to Temporal
 * would) holds neither the amount nor the card token, and the codec endpoint opens it
 * for an operator only.
 */

type Payload = proto.api.common.v1.IPayload;

const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) });

describe('payload codec (e2e)', function () {
  this.timeout(60_000);
  let s: Stack;
  let http: ReturnType<typeof client>;
  let operator: SignedIn;
  let customer: SignedIn;
  // An amount no other test uses (and within the funding limit), so finding it in the
  // history means this funding leaked it.
  const amount = '316459';
  let history: proto.api.history.v1.IHistory;
  let input: Payload[];

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    http = client(s.baseUrl);
    operator = await createOperator(s.baseUrl, s.db);
    customer = await signUpAndLogin(s.baseUrl, { phone: uniquePhone() });
    const accounts = await http('GET', '/v1/accounts', { token: customer.accessToken });
    const key = randomUUID();
    const res = await http('POST', '/v1/wallet/fund', {
      token: customer.accessToken,
      headers: { 'idempotency-key': key },
      body: { accountId: accounts.body.data[0].id, amount, currency: 'USD', source: { type: 'card', token: 'tok_success' } },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    // The stack's own environment client has no codec: it sees what Temporal stores.
    const handle = s.temporal.client.workflow.getHandle(workflowIds.walletFunding(customer.user.id, key));
    history = await handle.fetchHistory();
    input = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  });

  const rawHistory = () => Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  const decode = (payloads: Payload[], token?: string) =>
    http('POST', '/codec/decode', { ...(token ? { token } : {}), body: { payloads: payloads.map(toJson) } });

  it('stores the funding history with no amount in clear', () => {
    assert.ok((history.events?.length ?? 0) > 5, 'the funding ran');
    assert.equal(rawHistory().includes(amount), false);
  });

  it("stores the funding history with no card token in clear", () => {
    assert.equal(rawHistory().includes('tok_success'), false);
  });

  it('stores the workflow input sealed with the current key id', () => {
    assert.equal(input.length, 1);
    const metadata = input[0]?.metadata ?? {};
    assert.deepEqual(
      { encoding: Buffer.from(metadata.encoding ?? []).toString(), keyId: Buffer.from(metadata['encryption-key-id'] ?? []).toString() },
      { encoding: 'binary/encrypted', keyId: s.config.temporal.payloadCodec.currentKeyId },
    );
  });

  it('decodes the input for an operator', async () => {
    const res = await decode(input, operator.accessToken);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const clear = JSON.parse(Buffer.from(res.body.payloads[0].data, 'base64').toString('utf8'));
    assert.equal(clear.amountMinor, amount);
  });

  it('refuses a customer with 403', async () => {
    const res = await decode(input, customer.accessToken);
    assert.equal(res.status, 403);
  });

  it('refuses an anonymous caller with 401', async () => {
    const res = await decode(input);
    assert.equal(res.status, 401);
  });

  it('encodes for an operator what it then decodes', async () => {
    const plain = { metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from('{"note":"hello"}')) };
    const encoded = await http('POST', '/codec/encode', { token: operator.accessToken, body: { payloads: [plain] } });
    assert.equal(encoded.status, 200);
    const decoded = await http('POST', '/codec/decode', { token: operator.accessToken, body: encoded.body });
    assert.deepEqual(decoded.body.payloads, [plain]);
  });

  it('names a payload it cannot open with 400', async () => {
    const tampered = toJson(input[0] as Payload);
    tampered.metadata['encryption-key-id'] = b64(Buffer.from('retired-key'));
    const res = await http('POST', '/codec/decode', { token: operator.accessToken, body: { payloads: [tampered] } });
    assert.equal(res.status, 400);
    assert.deepEqual(
      res.body.errors.map((e: { field: string; code: string }) => [e.field, e.code]),
      [['payloads.0', 'unknown_key']],
    );
  });

  it("grants the Web UI's origin a CORS preflight with the headers it sends", async () => {
    const origin = s.config.temporal.codecCorsOrigins[0] as string;
    const res = await http('OPTIONS', '/codec/decode', {
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type,x-namespace' },
    });
    assert.deepEqual(
      { origin: res.headers.get('access-control-allow-origin'), headers: res.headers.get('access-control-allow-headers')?.toLowerCase() },
      { origin, headers: 'authorization,content-type,x-namespace' },
    );
  });

  it('grants no CORS preflight on the codec to another origin', async () => {
    const res = await http('OPTIONS', '/codec/decode', {
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  describe('browser sign-in for the Web UI', () => {
    const signIn = (user: SignedIn) =>
      http('POST', '/codec/login', {
        rawBody: new URLSearchParams({ email: user.email, password: user.password }).toString(),
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
    const cookieOf = (setCookie: string | null) => /finflow_codec=[^;]+/.exec(setCookie ?? '')?.[0];

    it('serves a sign-in form', async () => {
      const res = await http('GET', '/codec/login');
      assert.deepEqual([res.status, /<form method="post" action="\/codec\/login">/.test(res.body)], [200, true]);
    });

    it('sets an HttpOnly, SameSite=Strict cookie scoped to /codec for an operator', async () => {
      const res = await signIn(operator);
      const setCookie = res.headers.get('set-cookie') ?? '';
      assert.equal(res.status, 200);
      assert.deepEqual(
        ['httponly', 'samesite=strict', 'path=/codec'].filter((part) => !setCookie.toLowerCase().includes(part)),
        [],
      );
    });

    it('decodes for an operator who presents only the cookie', async () => {
      const cookie = cookieOf((await signIn(operator)).headers.get('set-cookie'));
      assert.ok(cookie);
      const res = await http('POST', '/codec/decode', { headers: { cookie }, body: { payloads: input.map(toJson) } });
      assert.equal(res.status, 200);
    });

    it('refuses to sign in a customer, setting no cookie', async () => {
      const res = await signIn(customer);
      assert.deepEqual([res.status, res.headers.get('set-cookie')], [403, null]);
    });

    it("refuses a cookie carrying a customer's token with 403", async () => {
      const res = await http('POST', '/codec/decode', { headers: { cookie: `finflow_codec=${customer.accessToken}` }, body: { payloads: input.map(toJson) } });
      assert.equal(res.status, 403);
    });

    it('accepts the cookie on no route outside /codec', async () => {
      const cookie = cookieOf((await signIn(operator)).headers.get('set-cookie'));
      const res = await http('GET', '/v1/operator/notifications', { headers: { cookie: cookie ?? '' } });
      assert.equal(res.status, 401);
    });
  });
});

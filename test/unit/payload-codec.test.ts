import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import { ConfigError, DEV_PAYLOAD_CODEC_KEYS, loadConfig } from '../../src/config';
import { createPayloadCodec, PayloadDecryptionError, type CodecKey } from '../../src/temporal/codec';

const key = (id: string): CodecKey => ({ id, key: randomBytes(32) });
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);
const valueOf = (payload: Payload | undefined) => defaultPayloadConverter.fromPayload(payload as Payload);
const entry = (k: CodecKey) => `${k.id}:${k.key.toString('base64')}`;

describe('payload codec', () => {
  const old = key('2026-11');
  const next = key('2026-12');
  const secret = { phone: '+14155550199', amountMinor: '123456' };

  it('leaves neither the phone nor the amount readable in the encoded bytes', async () => {
    const [sealed] = await createPayloadCodec({ currentKeyId: old.id, keys: [old] }).encode([payloadOf(secret)]);
    const bytes = Buffer.from(sealed?.data ?? []);
    assert.deepEqual([bytes.includes(secret.phone), bytes.includes(secret.amountMinor)], [false, false]);
  });

  it('decodes what it encoded', async () => {
    const codec = createPayloadCodec({ currentKeyId: old.id, keys: [old] });
    const decoded = await codec.decode(await codec.encode([payloadOf(secret)]));
    assert.deepEqual(valueOf(decoded[0]), secret);
  });

  it('after a rotation, decodes payloads sealed with the previous key', async () => {
    const [sealed] = await createPayloadCodec({ currentKeyId: old.id, keys: [old] }).encode([payloadOf(secret)]);
    const rotated = createPayloadCodec({ currentKeyId: next.id, keys: [next, old] });
    assert.deepEqual(valueOf((await rotated.decode([sealed as Payload]))[0]), secret);
  });

  it('after a rotation, seals new payloads with the new key id', async () => {
    const [sealed] = await createPayloadCodec({ currentKeyId: next.id, keys: [next, old] }).encode([payloadOf(secret)]);
    assert.equal(Buffer.from(sealed?.metadata?.['encryption-key-id'] ?? []).toString(), next.id);
  });

  it('refuses a payload sealed with a key that is no longer listed', async () => {
    const [sealed] = await createPayloadCodec({ currentKeyId: old.id, keys: [old] }).encode([payloadOf(secret)]);
    const retired = createPayloadCodec({ currentKeyId: next.id, keys: [next] });
    await assert.rejects(retired.decode([sealed as Payload]), (err: unknown) => err instanceof PayloadDecryptionError && err.reason === 'unknown_key');
  });

  it('refuses a payload relabelled with another listed key id', async () => {
    const [sealed] = await createPayloadCodec({ currentKeyId: old.id, keys: [old, next] }).encode([payloadOf(secret)]);
    const relabelled = { ...sealed, metadata: { ...sealed?.metadata, 'encryption-key-id': new TextEncoder().encode(next.id) } };
    const codec = createPayloadCodec({ currentKeyId: old.id, keys: [old, next] });
    await assert.rejects(codec.decode([relabelled]), (err: unknown) => err instanceof PayloadDecryptionError && err.reason === 'undecryptable');
  });

  it('refuses a tampered payload', async () => {
    const codec = createPayloadCodec({ currentKeyId: old.id, keys: [old] });
    const [sealed] = await codec.encode([payloadOf(secret)]);
    const data = Buffer.from(sealed?.data ?? []);
    data[20] = (data[20] ?? 0) ^ 1;
    await assert.rejects(codec.decode([{ ...sealed, data }]), PayloadDecryptionError);
  });

  it('passes through payloads it did not seal, as recorded histories hold', async () => {
    const plain = payloadOf(secret);
    const [decoded] = await createPayloadCodec({ currentKeyId: old.id, keys: [old] }).decode([plain]);
    assert.equal(decoded, plain);
  });
});

describe('payload codec config', () => {
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgres://u:p@db:5432/finflow',
    TEMPORAL_ADDRESS: 'temporal:7233',
    JWT_SECRET: 'x'.repeat(40),
    SERVICE_TOKEN: 'y'.repeat(20),
    ALLOW_SANDBOX_PROVIDERS: 'true',
  };
  const a = key('a');
  const b = key('b');
  const problemsOf = (env: NodeJS.ProcessEnv) => {
    try {
      loadConfig(env);
      return [];
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      return err.problems.filter((p) => p.startsWith('PAYLOAD_CODEC'));
    }
  };

  it('uses the published development key in development', () => {
    assert.equal(loadConfig({ NODE_ENV: 'development' }).temporal.payloadCodec.currentKeyId, DEV_PAYLOAD_CODEC_KEYS.split(':')[0]);
  });

  it('requires a key in production', () => {
    assert.match(problemsOf(production).join('\n'), /PAYLOAD_CODEC_KEYS: required/);
  });

  it('refuses the development key in production', () => {
    assert.match(problemsOf({ ...production, PAYLOAD_CODEC_KEYS: DEV_PAYLOAD_CODEC_KEYS }).join('\n'), /development key/);
  });

  it('refuses a key that is not 32 bytes of base64', () => {
    assert.match(problemsOf({ PAYLOAD_CODEC_KEYS: `a:${randomBytes(16).toString('base64')}` }).join('\n'), /32 bytes/);
  });

  it('requires PAYLOAD_CODEC_KEY_ID when several keys are listed', () => {
    assert.match(problemsOf({ PAYLOAD_CODEC_KEYS: `${entry(a)},${entry(b)}` }).join('\n'), /PAYLOAD_CODEC_KEY_ID: required/);
  });

  it('refuses a current key id that is not listed', () => {
    assert.match(problemsOf({ PAYLOAD_CODEC_KEYS: entry(a), PAYLOAD_CODEC_KEY_ID: 'c' }).join('\n'), /not listed/);
  });

  it('seals with PAYLOAD_CODEC_KEY_ID and keeps every listed key for decoding', () => {
    const { payloadCodec } = loadConfig({ ...production, PAYLOAD_CODEC_KEYS: `${entry(a)},${entry(b)}`, PAYLOAD_CODEC_KEY_ID: 'b' }).temporal;
    assert.deepEqual({ current: payloadCodec.currentKeyId, ids: payloadCodec.keys.map((k) => k.id) }, { current: 'b', ids: ['a', 'b'] });
  });
});

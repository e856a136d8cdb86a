import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/**
 * Encrypts every payload finflow hands to Temporal (workflow inputs and results,
 * activity arguments, signals, queries, memos, failures' details) with AES-256-GCM, so
 * a Temporal history holds no phone number, amount or token in clear. The whole
 * original payload (its metadata and data) is serialised and sealed; the wrapper says
 * only `binary/encrypted` and the id of the key that sealed it.
 *
 * Keys rotate by configuration: encode with the current key, decode with any key still
 * listed. A payload without the `binary/encrypted` marker passes through unchanged, so
 * histories recorded before the codec (and the replay fixtures) still decode.
 */

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface CodecKey {
  id: string;
  /** 32 bytes of AES-256 key material. */
  key: Buffer;
}

export interface CodecKeyring {
  /** The key new payloads are sealed with; also in `keys`. */
  currentKeyId: string;
  keys: CodecKey[];
}

/** A payload the codec cannot open: sealed with an unlisted key, or altered. */
export class PayloadDecryptionError extends Error {
  constructor(
    readonly reason: 'unknown_key' | 'undecryptable',
    message: string,
  ) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

export function isEncrypted(payload: Payload): boolean {
  const encoding = payload.metadata?.encoding;
  return encoding !== undefined && text.decode(encoding) === ENCRYPTED_ENCODING;
}

export function createPayloadCodec(keyring: CodecKeyring): PayloadCodec {
  const byId = new Map(keyring.keys.map((k) => [k.id, k.key]));
  const current = byId.get(keyring.currentKeyId);
  if (!current) throw new Error(`payload codec: current key "${keyring.currentKeyId}" is not among the configured keys`);
  for (const { id, key } of keyring.keys) {
    if (key.length !== KEY_BYTES) throw new Error(`payload codec: key "${id}" is ${key.length} bytes, expected ${KEY_BYTES}`);
  }

  const seal = (payload: Payload): Payload => {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', current, iv);
    // The key id is bound to the ciphertext, so a payload cannot be relabelled with another key's id.
    cipher.setAAD(utf8.encode(keyring.currentKeyId));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: { encoding: utf8.encode(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8.encode(keyring.currentKeyId) },
      data: new Uint8Array(sealed),
    };
  };

  const open = (payload: Payload): Payload => {
    if (!isEncrypted(payload)) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const keyId = idBytes ? text.decode(idBytes) : '';
    const key = byId.get(keyId);
    if (!key) throw new PayloadDecryptionError('unknown_key', `payload sealed with unknown key "${keyId}"`);
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('undecryptable', 'encrypted payload is truncated');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAAD(utf8.encode(keyId));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      const decoded = temporal.api.common.v1.Payload.decode(plain);
      return { metadata: decoded.metadata ?? {}, data: decoded.data ?? new Uint8Array() };
    } catch {
      throw new PayloadDecryptionError('undecryptable', `encrypted payload does not open with key "${keyId}"`);
    }
  };

  return {
    encode: async (payloads) => payloads.map(seal),
    decode: async (payloads) => payloads.map(open),
  };
}

/**
 * Parses `id:base64key,id:base64key` (PAYLOAD_CODEC_KEYS). Returns the keys or, for
 * each malformed entry, a problem naming it (never the key material).
 */
export function parseCodecKeys(value: string): { keys: CodecKey[]; problems: string[] } {
  const keys: CodecKey[] = [];
  const problems: string[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':');
    const id = colon > 0 ? entry.slice(0, colon) : '';
    const material = colon > 0 ? entry.slice(colon + 1) : '';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id)) {
      problems.push(`entry ${index + 1} needs the form id:base64key with an id of letters, digits, . _ -`);
      return;
    }
    const key = Buffer.from(material, 'base64');
    if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
      problems.push(`key "${id}" must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`);
      return;
    }
    if (keys.some((k) => k.id === id)) {
      problems.push(`key "${id}" is listed twice`);
      return;
    }
    keys.push({ id, key });
  });
  if (entries.length === 0) problems.push('lists no key');
  return { keys, problems };
}

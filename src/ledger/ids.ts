import { createHash } from 'node:crypto';

/**
 * Deterministic ids (RFC 9562 version 5: SHA-1 of a namespace and a name), so that an
 * idempotency key such as `<workflowId>:<step>` always names the same transfer. This
 * module uses node:crypto: call it from activities, not from workflow code.
 */

/** Namespaces of finflow's derived ids; fixed forever, since ids are stored. */
const TRANSFER_NAMESPACE = '6f1c4d1e-8a43-4d0b-9a55-2f9a3d3c7e10';
const ACCOUNT_NAMESPACE = '0b8e5a52-3c7f-4f8e-b1d4-7a0c9e6d2b31';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID_PATTERN.test(value);
}

export function uuidV5(namespace: string, name: string): string {
  const bytes = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The transfer id for an idempotency key, e.g. `payment:42:hold`. */
export function transferIdFrom(key: string): string {
  return uuidV5(TRANSFER_NAMESPACE, key);
}

/** The account id for a key, e.g. `wallet:<userId>:USD`, for idempotent opening. */
export function accountIdFrom(key: string): string {
  return uuidV5(ACCOUNT_NAMESPACE, key);
}

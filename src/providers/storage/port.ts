import type { Readable } from 'node:stream';

/**
 * Object storage: where finflow keeps the files it makes or receives (statements,
 * invoices, partner files). Every object of a customer lives under that customer's
 * prefix, so erasing a customer is deleting one prefix. Readers never get the bucket:
 * they get a presigned link that expires, which the storage server itself verifies.
 */

export interface StoredObject {
  key: string;
  sizeBytes: number;
  contentType: string | undefined;
}

export interface PutObjectInput {
  key: string;
  body: Buffer;
  contentType: string;
  /** Free-form metadata kept with the object (e.g. the business id that wrote it). */
  metadata?: Record<string, string>;
}

export interface ObjectStorage {
  readonly name: 's3';
  readonly bucket: string;
  /** Writes an object; writing the same key again replaces it (callers derive keys from business ids). */
  put(input: PutObjectInput): Promise<StoredObject>;
  get(key: string): Promise<Buffer>;
  /** The object's size and type, or undefined when there is none. */
  head(key: string): Promise<StoredObject | undefined>;
  /** A GET link that works for `expiresInSeconds`, signed so that a changed link is refused. */
  presignGet(key: string, expiresInSeconds: number, options?: { downloadName?: string }): Promise<string>;
  /** Deletes every object under `prefix`; returns how many there were. */
  deletePrefix(prefix: string): Promise<number>;
  /** Creates the bucket when it does not exist (development and tests; production buckets are provisioned). */
  ensureBucket(): Promise<void>;

  // Large files (partner files of the cards line): streamed, never held whole in memory.
  /** Writes an object of unknown length from a stream (a multipart upload); fails, leaving no object, when the stream does. */
  putStream(input: PutStreamInput): Promise<StoredObject>;
  /** The object's bytes from `start` (a byte offset) to its end, as a stream. */
  getStream(key: string, start?: number): Promise<Readable>;
  /** Objects under `prefix` in key order, after `startAfter`, at most `limit`. */
  list(prefix: string, options: { startAfter?: string; limit: number }): Promise<StoredObject[]>;
  /** Deletes one object (nothing when there is none). */
  delete(key: string): Promise<void>;
}

export interface PutStreamInput {
  key: string;
  body: Readable;
  contentType: string;
  metadata?: Record<string, string>;
}

/** The prefix every object of one customer lives under. */
export function userPrefix(userId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) throw new Error(`not a user id: ${userId}`);
  return `users/${userId}/`;
}

/** A key under the customer's prefix; each part is one path segment. */
export function userObjectKey(userId: string, ...parts: string[]): string {
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('/')) throw new Error(`not a key segment: ${JSON.stringify(part)}`);
  }
  return `${userPrefix(userId)}${parts.join('/')}`;
}

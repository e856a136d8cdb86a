import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { insertCardFile } from '../../src/cards/repository';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { localS3 } from './services';

/** Partner files for the cards tests: a bucket of their own on the local S3 server, and files recorded as uploads. */

export async function cardStorage(): Promise<ObjectStorage> {
  const s3 = await localS3();
  const storage = createS3Storage({ bucket: `cards-${randomUUID().slice(0, 8)}`, region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
  await storage.ensureBucket();
  return storage;
}

/** A file of lines joined by CRLF, ending with one, as couriers send them. */
export const csv = (...lines: string[]): string => `${lines.join('\r\n')}\r\n`;

/** A card id no other test uses. */
export const cardId = (name = 'CARD'): string => `${name}-${randomUUID().slice(0, 8)}`;

/** Stores the bytes and records them as an uploaded file of `partner`; answers the file id (their SHA-256). */
export async function storeCardFile(db: Db, storage: ObjectStorage, partner: string, content: string | Buffer): Promise<string> {
  const body = typeof content === 'string' ? Buffer.from(content) : content;
  const id = createHash('sha256').update(body).digest('hex');
  const objectKey = `card-files/uploads/${randomUUID()}/${partner}.csv`;
  await storage.put({ key: objectKey, body, contentType: 'text/csv' });
  await insertCardFile(db, { id, partner, objectKey, source: 'upload', sizeBytes: body.length });
  return id;
}

import { randomUUID } from 'node:crypto';
import { createDb, migrateLatest, type Db } from '../../src/db/knex';
import type { ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { localS3, postgresUrl, testDb } from './services';

/**
 * What the statement-run tests share: a database of their own (a run takes in every
 * active account, so other tests' accounts must not join it) and a fresh bucket on the
 * local S3 server.
 */

export async function databaseOfItsOwn(prefix: string): Promise<Db> {
  const name = `${prefix}_${randomUUID().slice(0, 8)}`;
  await (await testDb()).raw(`create database ${name}`);
  const url = new URL(await postgresUrl());
  url.pathname = `/${name}`;
  const db = createDb({ database: { url: url.toString(), poolMax: 10, embeddedPort: 0 }, dependencyTimeoutMs: 5000 });
  await migrateLatest(db);
  return db;
}

export async function freshBucket(prefix: string): Promise<ObjectStorage> {
  const s3 = await localS3();
  const storage = createS3Storage({ bucket: `${prefix}-${randomUUID().slice(0, 8)}`, region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
  await storage.ensureBucket();
  return storage;
}

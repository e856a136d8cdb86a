import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { eventually } from '../../src/dev/deadline';
import { userObjectKey, userPrefix, type ObjectStorage } from '../../src/providers/storage/port';
import { createS3Storage } from '../../src/providers/storage/s3';
import { localS3 } from '../helpers/services';

/**
 * The S3 storage adapter on the real AWS SDK against versitygw, an S3 server that
 * verifies SigV4: objects round-trip byte for byte, presigned links work until they
 * expire, and a changed link is refused by the server.
 */
describe('object storage on S3 (versitygw)', function () {
  this.timeout(60_000);
  let storage: ObjectStorage;

  before(async function () {
    // The first run may build versitygw from the Go module proxy.
    this.timeout(600_000);
    const s3 = await localS3();
    storage = createS3Storage({ bucket: `finflow-${randomUUID().slice(0, 8)}`, region: 'us-east-1', endpoint: s3.endpoint, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, forcePathStyle: true });
    await storage.ensureBucket();
  });

  it('stores an object and reads it back byte for byte', async () => {
    const key = userObjectKey(randomUUID(), 'statements', 'a.pdf');
    const body = randomBytes(70_000);
    await storage.put({ key, body, contentType: 'application/pdf' });
    assert.deepEqual(await storage.get(key), body);
    assert.deepEqual(await storage.head(key), { key, sizeBytes: body.length, contentType: 'application/pdf' });
  });

  it('answers head of a missing object with undefined', async () => {
    assert.equal(await storage.head(userObjectKey(randomUUID(), 'nothing.pdf')), undefined);
  });

  it('serves a presigned link, and refuses it with one signature character changed', async () => {
    const key = userObjectKey(randomUUID(), 'statements', 'b.pdf');
    const body = randomBytes(1_000);
    await storage.put({ key, body, contentType: 'application/pdf' });
    const url = await storage.presignGet(key, 300, { downloadName: 'statement.pdf' });
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.deepEqual(Buffer.from(await ok.arrayBuffer()), body);
    assert.match(ok.headers.get('content-disposition') ?? '', /statement\.pdf/);

    const signature = new URL(url).searchParams.get('X-Amz-Signature') as string;
    const flipped = `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`;
    assert.equal((await fetch(url.replace(signature, flipped))).status, 403);
  });

  it('refuses a presigned link once it has expired', async () => {
    const key = userObjectKey(randomUUID(), 'c.pdf');
    await storage.put({ key, body: Buffer.from('%PDF-1.7'), contentType: 'application/pdf' });
    const url = await storage.presignGet(key, 1);
    const status = await eventually('the link to expire', async () => ((await fetch(url)).status === 403 ? 403 : undefined), { timeoutMs: 10_000, intervalMs: 250 });
    assert.equal(status, 403);
  });

  it("deletes everything under one customer's prefix and nothing of another's", async () => {
    const [ada, grace] = [randomUUID(), randomUUID()];
    for (const name of ['1.pdf', '2.pdf', '3.pdf']) await storage.put({ key: userObjectKey(ada, 'invoices', name), body: Buffer.from(name), contentType: 'application/pdf' });
    await storage.put({ key: userObjectKey(grace, 'invoices', '1.pdf'), body: Buffer.from('g'), contentType: 'application/pdf' });
    assert.equal(await storage.deletePrefix(userPrefix(ada)), 3);
    assert.equal(await storage.head(userObjectKey(ada, 'invoices', '1.pdf')), undefined);
    assert.notEqual(await storage.head(userObjectKey(grace, 'invoices', '1.pdf')), undefined);
  });

  it('refuses keys that would leave the customer prefix', () => {
    const id = randomUUID();
    assert.throws(() => userObjectKey(id, '..', 'other'));
    assert.throws(() => userObjectKey(id, 'a/b'));
    assert.throws(() => userPrefix('../../etc'));
  });

  it('refuses to delete under a prefix that is not a folder', async () => {
    await assert.rejects(storage.deletePrefix(''), /a prefix ends with/);
    await assert.rejects(storage.deletePrefix('users'), /a prefix ends with/);
  });
});

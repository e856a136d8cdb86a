import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Transform, type Readable } from 'node:stream';
import type { ObjectStorage, PutObjectInput, PutStreamInput, StoredObject } from './port';

/**
 * The storage port on the official AWS SDK: AWS S3 itself, MinIO, or (in `npm start`
 * and the tests) versitygw, a local S3 server that verifies SigV4 signatures, so a
 * tampered or expired presigned link is refused by the server, not by finflow.
 */

export interface S3Settings {
  bucket: string;
  region: string;
  /** Unset for AWS S3; an http(s) URL for MinIO or a local server. */
  endpoint: string | undefined;
  accessKeyId: string | undefined;
  secretAccessKey: string | undefined;
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO and local servers need. */
  forcePathStyle: boolean;
}

const DELETE_BATCH = 1000;

function isNotFound(err: unknown): boolean {
  return err instanceof NotFound || (err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey'));
}

export function createS3Storage(settings: S3Settings): ObjectStorage {
  const client = new S3Client({
    region: settings.region,
    endpoint: settings.endpoint,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.accessKeyId && settings.secretAccessKey
      ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
      : {}),
  });
  const { bucket } = settings;

  const head = async (key: string): Promise<StoredObject | undefined> => {
    try {
      const found = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, sizeBytes: found.ContentLength ?? 0, contentType: found.ContentType };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  return {
    name: 's3',
    bucket,

    async put({ key, body, contentType, metadata }: PutObjectInput): Promise<StoredObject> {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ContentLength: body.length, Metadata: metadata }));
      return { key, sizeBytes: body.length, contentType };
    },

    async get(key: string): Promise<Buffer> {
      const found = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from(await (found.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    },

    head,

    presignGet(key: string, expiresInSeconds: number, options = {}): Promise<string> {
      const disposition = options.downloadName ? `attachment; filename="${options.downloadName.replace(/[^\w.-]/g, '_')}"` : undefined;
      return getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key, ResponseContentDisposition: disposition }), { expiresIn: expiresInSeconds });
    },

    async deletePrefix(prefix: string): Promise<number> {
      if (prefix === '' || !prefix.endsWith('/')) throw new Error(`refusing to delete under ${JSON.stringify(prefix)}: a prefix ends with "/"`);
      let deleted = 0;
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: DELETE_BATCH }));
        const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
        if (keys.length > 0) {
          const result = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
          if (result.Errors && result.Errors.length > 0) throw new Error(`could not delete ${result.Errors.length} objects under ${prefix}: ${result.Errors[0]?.Message ?? 'unknown'}`);
          deleted += keys.length;
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return deleted;
    },

    async ensureBucket(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await client.send(new CreateBucketCommand({ Bucket: bucket }));
      }
    },

    async putStream({ key, body, contentType, metadata }: PutStreamInput): Promise<StoredObject> {
      let sizeBytes = 0;
      const counted = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          sizeBytes += chunk.length;
          done(null, chunk);
        },
      });
      body.once('error', (err) => counted.destroy(err));
      // Parts of 8 MiB, two in flight: memory stays bounded whatever the object's size.
      const upload = new Upload({ client, params: { Bucket: bucket, Key: key, Body: body.pipe(counted), ContentType: contentType, Metadata: metadata }, partSize: 8 * 1024 * 1024, queueSize: 2, leavePartsOnError: false });
      await upload.done();
      return { key, sizeBytes, contentType };
    },

    async getStream(key: string, start = 0): Promise<Readable> {
      const found = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(start > 0 ? { Range: `bytes=${start}-` } : {}) }));
      return found.Body as Readable;
    },

    async list(prefix: string, { startAfter, limit }: { startAfter?: string; limit: number }): Promise<StoredObject[]> {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, StartAfter: startAfter, MaxKeys: limit }));
      return (page.Contents ?? []).flatMap((o) => (o.Key ? [{ key: o.Key, sizeBytes: o.Size ?? 0, contentType: undefined }] : []));
    },

    async delete(key: string): Promise<void> {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
  };
}

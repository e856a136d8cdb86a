import { createHash } from 'node:crypto';
import { insertCardFile } from '../../cards/repository';
import type { CardActivityDeps } from './ingest';

/**
 * The pickup Schedule's side effects (docs/cards.md): partners drop files under
 * `<prefix><layout>/<name>`; each object is picked once (card_pickup_objects), hashed
 * while streamed, and recorded as a card file keyed by that hash, so a file dropped
 * twice, or also uploaded, is ingested once.
 */

/** Objects listed per page while looking for new ones. */
const LIST_PAGE = 1000;

export function createCardPickupActivities(deps: CardActivityDeps) {
  const { db } = deps;
  const storage = () => {
    if (!deps.storage) throw new Error('the cards activities need object storage (S3_*)');
    return deps.storage;
  };

  return {
    /** Up to `limit` object keys under the prefix that were never picked up, in key order. */
    async listNewCardFileObjects({ prefix, limit }: { prefix: string; limit: number }): Promise<string[]> {
      const found: string[] = [];
      let startAfter: string | undefined;
      for (;;) {
        const page = await storage().list(prefix, { startAfter, limit: LIST_PAGE });
        if (page.length === 0) return found;
        const keys = page.map((o) => o.key).filter((key) => !key.endsWith('/'));
        const picked = new Set((await db('card_pickup_objects').whereIn('object_key', keys).select<Array<{ object_key: string }>>('object_key')).map((r) => r.object_key));
        for (const key of keys) {
          if (!picked.has(key)) found.push(key);
          if (found.length >= limit) return found;
        }
        startAfter = page[page.length - 1]?.key;
      }
    },

    /** Hashes the object while streaming it and records it as a card file; answers the file id. */
    async registerCardFileObject({ prefix, key }: { prefix: string; key: string }): Promise<{ fileId: string }> {
      const hash = createHash('sha256');
      let sizeBytes = 0;
      for await (const chunk of await storage().getStream(key)) {
        hash.update(chunk as Buffer);
        sizeBytes += (chunk as Buffer).length;
      }
      const fileId = hash.digest('hex');
      // The folder under the prefix names the layout; a file at the top names none (and is rejected as such).
      const partner = key.slice(prefix.length).split('/').slice(0, -1)[0] ?? '';
      await db.transaction(async (trx) => {
        await insertCardFile(trx, { id: fileId, partner, objectKey: key, source: 'pickup', sizeBytes });
        await trx('card_pickup_objects').insert({ object_key: key, file_id: fileId }).onConflict('object_key').ignore();
      });
      return { fileId };
    },
  };
}

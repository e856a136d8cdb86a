import type { Db } from '../../db/knex';
import type { Ledger } from '../../ledger/types';

const DELETE_BATCH = 5_000;

export function createHousekeepingActivities({ db, ledger, now }: { db: Db; ledger: Ledger; now: () => Date }) {
  return {
    /**
     * Releases every pending hold past its timeout (as `expire_pending` transfers), so
     * money a failed workflow left held becomes available again. Idempotent.
     */
    async expirePendingHolds(): Promise<{ expired: number }> {
      return ledger.expirePendingTransfers(now());
    },

    /** Deletes idempotency keys older than the TTL, in batches; returns how many went. */
    async deleteExpiredIdempotencyKeys({ ttlSeconds }: { ttlSeconds: number }): Promise<{ deleted: number }> {
      const cutoff = new Date(now().getTime() - ttlSeconds * 1000);
      let deleted = 0;
      for (;;) {
        const batch = await db.raw<{ rowCount: number }>(
          `delete from idempotency_keys where ctid in (
             select ctid from idempotency_keys where created_at < ? limit ?)`,
          [cutoff, DELETE_BATCH],
        );
        deleted += batch.rowCount;
        if (batch.rowCount < DELETE_BATCH) return { deleted };
      }
    },
  };
}

import { randomUUID } from 'node:crypto';
import { createDb } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';

/**
 * One of the processes of the overdraw test (test/integration/ledger-concurrency.test.ts). On
 * its orders it opens its own pool and reports `ready`; on `go` it fires `count`
 * transfers of `amountMinor` from one wallet at once, each to one of the receivers, and
 * reports how many ended with each result.
 */
export interface Orders {
  url: string;
  walletId: string;
  receiverIds: string[];
  amountMinor: string;
  count: number;
}

async function fire(orders: Orders, go: Promise<void>): Promise<Record<string, number>> {
  const db = createDb({ database: { url: orders.url, poolMax: 8, embeddedPort: 0 }, dependencyTimeoutMs: 30_000 });
  const ledger = createLedger(db);
  const outcomes: Record<string, number> = {};
  try {
    await Promise.all(Array.from({ length: 8 }, () => db.raw('select 1')));
    process.send!({ ready: true });
    await go;
    await Promise.all(
      Array.from({ length: orders.count }, async (_, i) => {
        const [result] = await ledger.createTransfers([
          {
            id: randomUUID(),
            debitAccountId: orders.walletId,
            creditAccountId: orders.receiverIds[i % orders.receiverIds.length]!,
            amountMinor: BigInt(orders.amountMinor),
            currency: 'USD',
            code: 'p2p_transfer',
          },
        ]);
        const status = result?.status ?? 'missing';
        outcomes[status] = (outcomes[status] ?? 0) + 1;
      }),
    );
  } finally {
    await db.destroy();
  }
  return outcomes;
}

let startFiring!: () => void;
const go = new Promise<void>((resolve) => (startFiring = resolve));
process.on('message', (message: Orders | 'go') => {
  if (message === 'go') {
    startFiring();
    return;
  }
  fire(message, go).then(
    (outcomes) => process.send!({ outcomes }, () => process.exit(0)),
    (err: unknown) => process.send!({ error: String(err) }, () => process.exit(1)),
  );
});

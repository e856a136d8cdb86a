import { randomUUID } from 'node:crypto';
import type { ActivityDeps } from '../../src/activities';
import type { Db } from '../../src/db/knex';
import { createLedger } from '../../src/ledger/service';
import { createSandboxFundingProcessor } from '../../src/providers/funding/sandbox';
import { createSandboxBillerPort } from '../../src/payments/billers/sandbox';
import { createSandboxNotifier } from '../../src/providers/sandbox-notifier';

/** Inserts a customer row directly (no API), for workflow and activity tests. */
export async function insertCustomer(db: Db, overrides: Partial<{ name: string; phone: string; email: string }> = {}): Promise<string> {
  const id = randomUUID();
  await db('users').insert({
    id,
    email: overrides.email ?? `${id}@example.com`,
    password_hash: 'not-a-real-hash',
    name: overrides.name ?? 'Ada Lovelace',
    phone: overrides.phone ?? '+14155550123',
    date_of_birth: '1990-01-01',
    role: 'customer',
  });
  return id;
}

export const uniqueTaskQueue = (prefix: string) => `${prefix}-${randomUUID()}`;

/** Activity ports over the test database: the sandbox notifier and funding processor, the real ledger. */
export function testActivityDeps(db: Db, overrides: Partial<ActivityDeps> = {}): ActivityDeps {
  return {
    db,
    notifier: createSandboxNotifier(db),
    ledger: createLedger(db),
    funding: createSandboxFundingProcessor(db),
    billers: createSandboxBillerPort(db),
    now: () => new Date(),
    ...overrides,
  };
}

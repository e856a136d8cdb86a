import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import type { Account } from '../../src/ledger/types';
import type { Frequency } from '../../src/payments/recurring/period';
import { insertRecurringPayment } from '../../src/payments/recurring/repository';
import { scheduleIds } from '../../src/temporal/names';
import { customerWithWallet, uniquePhone } from './money';

export const RECURRING_BILLER = 'brightgrid-power';
export const RECURRING_AMOUNT_MINOR = 2_500n;

/**
 * A customer whose wallet holds `balanceMinor`, with an active recurring payment of
 * USD 25.00 to BrightGrid Power from it, starting 2027-01-31 (a month-end day).
 */
export async function recurringPaymentFixture(
  db: Db,
  options: { balanceMinor?: bigint; ref?: string; frequency?: Frequency; timezone?: string } = {},
): Promise<{ id: ReturnType<typeof randomUUID>; userId: string; wallet: Account }> {
  const { userId, wallet } = await customerWithWallet(db, { phone: uniquePhone(), balanceMinor: options.balanceMinor });
  const id = randomUUID();
  await insertRecurringPayment(db, {
    id,
    userId,
    billerId: RECURRING_BILLER,
    customerRef: options.ref ?? '4820193755',
    fromAccountId: wallet.id,
    amountMinor: RECURRING_AMOUNT_MINOR.toString(),
    currency: 'USD',
    frequency: options.frequency ?? 'monthly',
    startDate: '2027-01-31',
    timezone: options.timezone ?? 'America/New_York',
    scheduleId: scheduleIds.recurringPayment(id),
  });
  return { id, userId, wallet };
}

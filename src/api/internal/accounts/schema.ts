import { z } from 'zod';
import { Minor } from '../ledger/schema';

/** Any account, customer or system, as an operator's statement shows it. */
export const StatementAccountSchema = z
  .object({
    id: z.uuid(),
    ownerUserId: z.uuid().nullable(),
    systemRole: z.string().nullable(),
    type: z.string(),
    currency: z.string().length(3),
    rule: z.string(),
    maskedNumber: z.string(),
    creditLimit: Minor,
    totals: z.object({ debitsPosted: Minor, debitsPending: Minor, creditsPosted: Minor, creditsPending: Minor }),
    balances: z.object({ posted: Minor, pending: Minor, available: Minor }),
  })
  .meta({ id: 'StatementAccount' });

import { z } from 'zod';

/** Shapes of the operator views of the ledger: signed minor units, as the ledger's own totals are. */

export const Minor = z.string().regex(/^-?[0-9]+$/);
const Side = z.object({ debits: Minor, credits: Minor, difference: Minor });

export const TrialBalanceSchema = z
  .object({ data: z.array(z.object({ currency: z.string().length(3), posted: Side, pending: Side })) })
  .meta({ id: 'TrialBalance' });

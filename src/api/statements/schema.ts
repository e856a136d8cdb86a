import { z } from 'zod';
import { MinorUnits } from '../accounts/schema';
import { pageSchema } from '../core/pagination';

/** A statement request: the last `lastN` transactions (default 10) or those in [from, to). */
export const StatementRequestBody = z
  .object({
    lastN: z.number().int().min(1).max(1000).optional().meta({ description: 'The last n posted transactions (1..1000, default 10). Not with from/to.' }),
    from: z.iso.datetime({ offset: true }).optional().meta({ description: 'Inclusive start of the period (ISO 8601); with `to`.' }),
    to: z.iso.datetime({ offset: true }).optional().meta({ description: 'Exclusive end of the period (ISO 8601), not in the future; with `from`.' }),
  })
  .strict()
  .superRefine((body, ctx) => {
    const ranged = body.from !== undefined || body.to !== undefined;
    // One issue per request, naming the field to change.
    if (ranged && body.lastN !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['lastN'], message: 'Give lastN or from and to, not both.' });
      return;
    }
    if (body.from !== undefined && body.to === undefined) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to is required with from.' });
    if (body.to !== undefined && body.from === undefined) ctx.addIssue({ code: 'custom', path: ['from'], message: 'from is required with to.' });
    if (body.from !== undefined && body.to !== undefined && Date.parse(body.from) >= Date.parse(body.to)) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: 'from must be before to.' });
    }
  })
  .meta({ id: 'StatementRequest' });

export type StatementRequestBody = z.infer<typeof StatementRequestBody>;

export const StatementSchema = z
  .object({
    id: z.uuid(),
    accountId: z.uuid(),
    status: z.enum(['processing', 'ready', 'failed']),
    source: z.enum(['api', 'monthly', 'sms']),
    lastN: z.number().int().nullable(),
    month: z.string().nullable().meta({ description: '`YYYY-MM` of a monthly statement.' }),
    period: z.object({ from: z.iso.datetime().nullable(), to: z.iso.datetime().nullable() }),
    currency: z.string().nullable(),
    openingBalance: MinorUnits.nullable(),
    closingBalance: MinorUnits.nullable(),
    totalDebits: MinorUnits.nullable(),
    totalCredits: MinorUnits.nullable(),
    lineCount: z.number().int().nullable(),
    failureReason: z.string().nullable(),
    downloadUrl: z.string().nullable().meta({ description: 'A fresh presigned link to the encrypted PDF while it exists (status `ready`); it expires.' }),
    downloadExpiresAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Statement' });

export const StatementPageSchema = pageSchema(StatementSchema).meta({ id: 'StatementPage' });

import { z } from 'zod';
import { CARD_STATUSES } from '../../workflows/cards/contract';

/** Request and response shapes of a card's delivery status (`/v1/cards/{cardId}/status`, and the support desk's under `/internal/v1`). */

/** The issuer's card id (never a card number). */
export const CardIdParams = z.object({ cardId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/).meta({ example: 'CARD-000123' }) });

export const CardStatusQuery = z.object({
  phone: z
    .string()
    .min(3)
    .max(32)
    .regex(/^[0-9+()\-. ]+$/)
    .meta({ description: "The card holder's phone, in any form: national (`501234567`), with the country code, `+`, spaces or dashes.", example: '+971501234567' }),
});

export const CardStatusSchema = z
  .object({
    cardId: z.string(),
    status: z.enum(CARD_STATUSES),
    /** When the courier says the status began (the event's time, not when finflow learned it). */
    statusAt: z.iso.datetime(),
    history: z.array(z.object({ status: z.enum(CARD_STATUSES), at: z.iso.datetime(), comment: z.string().nullable() })).meta({ description: 'Every event, newest first.' }),
  })
  .meta({ id: 'CardStatus' });

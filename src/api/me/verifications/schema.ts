import { z } from 'zod';

/** Request and response shapes of contact verification by one-time code. */

export const Channel = z.enum(['email', 'phone']).meta({ description: '`email` sends the code by email, `phone` by SMS.' });

export const StartVerificationBody = z.object({ channel: Channel }).meta({ id: 'StartVerificationRequest' });

export const ConfirmVerificationBody = z
  .object({
    channel: Channel,
    code: z
      .string()
      .regex(/^[0-9]{6}$/, { message: 'code must be the 6 digits you received.' })
      .meta({ example: '042917' }),
  })
  .meta({ id: 'ConfirmVerificationRequest' });

export const VerificationSchema = z
  .object({
    channel: Channel,
    destination: z.string().meta({ description: 'Where the code went, masked.', example: '+1******0142' }),
    expiresAt: z.iso.datetime(),
    attemptsLeft: z.number().int(),
  })
  .meta({ id: 'Verification' });

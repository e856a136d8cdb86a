import { z } from 'zod';
import { PasswordField } from '../schema';
import { NOT_BLANK_PATTERN } from '../../core/patterns';

/** Shapes of the password reset by one-time code (docs/security.md, "Password reset"). */

const Email = z.string().trim().toLowerCase().min(1).max(254).meta({ example: 'ada@example.com', pattern: NOT_BLANK_PATTERN });

export const PasswordResetBody = z.object({ email: Email }).meta({ id: 'PasswordResetRequest' });

export const PasswordResetSchema = z
  .object({
    status: z.literal('sent').meta({ description: 'Always `sent`: the answer is the same whether or not the address has an account.' }),
    expiresInSeconds: z.number().int(),
  })
  .meta({ id: 'PasswordReset' });

export const ConfirmPasswordResetBody = z
  .object({
    email: Email,
    code: z.string().regex(/^[0-9]{6}$/, { message: 'code must be the 6 digits you received.' }).meta({ example: '042917' }),
    newPassword: PasswordField,
  })
  .meta({ id: 'ConfirmPasswordResetRequest' });

export type ConfirmPasswordResetBody = z.infer<typeof ConfirmPasswordResetBody>;

import { z } from 'zod';
import { canonicalTimeZone } from '../../../payments/recurring/period';
import { PasswordField, PhoneField, UserSchema } from '../../auth/schema';
import { NOT_BLANK_PATTERN } from '../../core/patterns';
import { VerificationSchema } from '../verifications/schema';

/** Shapes of the profile and password routes (docs/security.md, "Profile and password"). */

/**
 * A new email, untrimmed: unlike signup's, surrounding whitespace is refused rather than
 * cut, and the document states zod's own pattern, so what it says is what is checked.
 */
const NewEmail = z
  .string()
  .max(254)
  // The pattern alone (no `format: email`, whose checkers disagree at the edges): the document states exactly what is checked.
  .regex(z.regexes.email, { message: 'email must be a valid email address.' })
  .transform((value) => value.toLowerCase())
  .meta({ example: 'ada@example.com' });

export const ProfileBody = z
  .object({
    name: z.string().trim().min(1, { message: 'name must not be empty.' }).max(200).meta({ example: 'Ada Lovelace', pattern: NOT_BLANK_PATTERN }).optional(),
    timezone: z
      .string()
      .max(64)
      .refine((name) => canonicalTimeZone(name) !== undefined, { message: 'timezone must be an IANA timezone name, e.g. America/New_York.' })
      .meta({ example: 'Europe/Stockholm' })
      .optional(),
    email: NewEmail.optional().meta({ description: 'A new email: it replaces yours only once the code sent to it is confirmed (POST /v1/me/verifications/confirm).' }),
    phone: PhoneField.optional().meta({ description: 'A new phone: it replaces yours only once the code sent to it by SMS is confirmed.' }),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), { message: 'Give at least one of name, timezone, email or phone.' })
  // The refinement above, as JSON Schema states it.
  .meta({ id: 'ProfileUpdateRequest', minProperties: 1 });

export type ProfileBody = z.infer<typeof ProfileBody>;

export const ProfileSchema = z
  .object({
    user: UserSchema.meta({ description: 'You, with the name and timezone applied; email and phone change only when confirmed.' }),
    pendingVerifications: z.array(VerificationSchema).meta({ description: 'Codes sent to a new email or phone; confirm each at POST /v1/me/verifications/confirm.' }),
  })
  .meta({ id: 'ProfileUpdate' });

export const ChangePasswordBody = z
  .object({
    currentPassword: z.string().min(1).max(1024),
    newPassword: PasswordField,
  })
  .meta({ id: 'ChangePasswordRequest' });

export type ChangePasswordBody = z.infer<typeof ChangePasswordBody>;

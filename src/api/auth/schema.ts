import { z } from 'zod';
import { NOT_BLANK_PATTERN } from '../core/patterns';
import { isValidPhoneNumber } from 'libphonenumber-js/max';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, containsEmailLocalPart, weakPasswordReason } from './passwords';

/**
 * Request and response shapes of the auth routes. The same schemas validate requests
 * (each failure names its field) and describe them in the OpenAPI document.
 */

export const MINIMUM_AGE_YEARS = 18;
/** Nobody alive was born earlier; an older date is a typo. */
const EARLIEST_DATE_OF_BIRTH = '1900-01-01';
const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * What the email check accepts, stated for the OpenAPI document: zod's email pattern,
 * with the surrounding whitespace the trim removes (JSON Schema's `format: email` alone
 * allows addresses, such as `a#b@example.com`, that the check refuses).
 */
export const EMAIL_PATTERN = `^\\s*${z.regexes.email.source.slice(1, -1)}\\s*$`;

/** Trimmed and lowercased before the format check, so ` Ada@Example.com ` is accepted. */
export const EmailField = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .check(z.email({ message: 'email must be a valid email address.' }))
  .meta({ example: 'ada@example.com', pattern: EMAIL_PATTERN });

/** E.164 first (a cheap, precise message), then libphonenumber's per-country rules. */
export const PhoneField = z
  .string()
  .regex(E164, { message: 'phone must be in E.164 format: + and the country code, e.g. +14155550123.', abort: true })
  .refine((value) => isValidPhoneNumber(value), { message: 'phone is not a valid phone number.' })
  .meta({ example: '+14155550123' });

export const PasswordField = z
  .string()
  .min(PASSWORD_MIN_LENGTH, { message: `password must be at least ${PASSWORD_MIN_LENGTH} characters.` })
  .max(PASSWORD_MAX_LENGTH, { message: `password must be at most ${PASSWORD_MAX_LENGTH} characters.` })
  .superRefine((value, ctx) => {
    const reason = weakPasswordReason(value);
    if (reason) ctx.addIssue({ code: 'custom', message: reason });
  });

/** The date on which someone born on `dateOfBirth` turns `years` old (29 Feb rolls to 1 Mar). */
export function anniversary(dateOfBirth: string, years: number): string {
  const [y, m, d] = dateOfBirth.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y + years, m - 1, d)).toISOString().slice(0, 10);
}

/** Today's date in UTC as `YYYY-MM-DD`, comparable as a string with ISO dates. */
const utcDate = (now: Date) => now.toISOString().slice(0, 10);

/** `now` is read at validation time, so an injected clock moves the age check too. */
function dateOfBirth(now: () => Date) {
  return z.iso
    .date({ message: 'dateOfBirth must be a real date in the form YYYY-MM-DD.', abort: true })
    .refine((value) => value >= EARLIEST_DATE_OF_BIRTH, { message: `dateOfBirth must be on or after ${EARLIEST_DATE_OF_BIRTH}.`, abort: true })
    .refine((value) => value <= utcDate(now()), { message: 'dateOfBirth must not be in the future.', abort: true })
    .refine((value) => anniversary(value, MINIMUM_AGE_YEARS) <= utcDate(now()), {
      message: `You must be at least ${MINIMUM_AGE_YEARS} years old.`,
    })
    .meta({ example: '1990-12-10' });
}

export function signupBody(now: () => Date) {
  return z
    .object({
      email: EmailField,
      password: PasswordField,
      name: z
        .string()
        .trim()
        .min(1, { message: 'name must not be empty.' })
        .max(200, { message: 'name must be at most 200 characters.' })
        .meta({ example: 'Ada Lovelace', pattern: NOT_BLANK_PATTERN }),
      phone: PhoneField,
      dateOfBirth: dateOfBirth(now),
      /** Another customer's referral code: they earn a bonus when this user's first payment succeeds. Unknown codes are ignored. */
      referralCode: z
        .string()
        .regex(/^[A-Z0-9]{6,12}$/, { message: 'referralCode must be 6–12 capital letters or digits.' })
        .optional(),
    })
    .superRefine((body, ctx) => {
      // Runs even when other fields failed their format checks, so guard the types.
      if (typeof body.password === 'string' && typeof body.email === 'string' && containsEmailLocalPart(body.password, body.email)) {
        ctx.addIssue({ code: 'custom', path: ['password'], message: 'password must not contain your email address.' });
      }
    })
    .meta({ id: 'SignupRequest' });
}

export type SignupBody = z.infer<ReturnType<typeof signupBody>>;

/**
 * Login takes any non-empty strings: a malformed email is just another failed login,
 * so the answer never hints at which accounts exist.
 */
export const LoginBody = z
  .object({
    email: z.string().trim().toLowerCase().min(1).max(254).meta({ example: 'ada@example.com', pattern: NOT_BLANK_PATTERN }),
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'LoginRequest' });

export const RefreshTokenBody = z
  .object({ refreshToken: z.string().min(1).max(256) })
  .meta({ id: 'RefreshTokenRequest' });

export const UserSchema = z
  .object({
    id: z.uuid(),
    email: z.email(),
    name: z.string(),
    phone: z.string().meta({ example: '+14155550123' }),
    dateOfBirth: z.iso.date(),
    role: z.enum(['customer', 'operator']),
    referralCode: z.string().meta({ description: 'Share it: the referrer earns a bonus when a referred customer first pays a bill.' }),
    emailVerified: z.boolean().meta({ description: 'Proved by a code sent to the email (POST /v1/me/verifications).' }),
    phoneVerified: z.boolean().meta({ description: 'Proved by a code sent by SMS; only verified contacts can receive transfers.' }),
    timezone: z.string().nullable().meta({ description: 'Your IANA timezone (PATCH /v1/me); null until set.', example: 'Europe/Stockholm' }),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'User' });

export type User = z.infer<typeof UserSchema>;

export const TokenPairSchema = z
  .object({
    accessToken: z.string().meta({ description: 'A JWT to send as `Authorization: Bearer …`.' }),
    refreshToken: z.string().meta({ description: 'Opaque; single use. Exchange it at /v1/auth/refresh for a new pair.' }),
    expiresIn: z.number().int().meta({ description: 'Seconds until the access token expires.' }),
    tokenType: z.literal('Bearer'),
  })
  .meta({ id: 'TokenPair' });

export type TokenPair = z.infer<typeof TokenPairSchema>;

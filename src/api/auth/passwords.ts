import { randomBytes } from 'node:crypto';
import { hash, parseOptions, verify, type Algorithm } from '@node-rs/argon2';

/**
 * Password hashing and the password policy. Hashes are argon2id at OWASP's minimum
 * parameters (19 MiB, 2 passes, 1 lane); the parameters travel inside each PHC string,
 * so raising them later only needs `needsRehash` on the next successful login.
 */

/**
 * `Algorithm.Argon2id`. The package declares a const enum that is empty at run time, so
 * code run through esbuild (tsx) cannot read it; the value is fixed by the argon2 crate.
 */
const ARGON2ID = 2 as Algorithm;

export const ARGON2_PARAMS = {
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/** Local parts shorter than this are too common as substrings to refuse passwords over. */
const MIN_LOCAL_PART_CHECKED = 3;

/**
 * A short list of passwords that meet the length rule yet are among the first an
 * attacker tries. Compared case-insensitively.
 */
const COMMON_PASSWORDS = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456789abc',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  'abc123456789',
  'abcdefghijkl',
  'administrator',
  'baseball1234',
  'changeme1234',
  'football1234',
  'iloveyou1234',
  'letmein12345',
  'monkey123456',
  'p@ssw0rd1234',
  'passw0rd1234',
  'password1234',
  'password12345',
  'password123456',
  'passwordpassword',
  'princess1234',
  'qwerty123456',
  'qwertyuiop12',
  'qwertyuiop123',
  'qwertyuiopasdf',
  'sunshine1234',
  'trustno1trustno1',
  'welcome12345',
  'zaq12wsxcde3',
]);

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMS);
}

/** False for a wrong password and for a hash that cannot be parsed. */
export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** True when a stored hash was made with weaker parameters than today's. */
export function needsRehash(passwordHash: string): boolean {
  try {
    const used = parseOptions(passwordHash);
    return (
      used.algorithm !== ARGON2_PARAMS.algorithm ||
      used.memoryCost < ARGON2_PARAMS.memoryCost ||
      used.timeCost < ARGON2_PARAMS.timeCost ||
      used.parallelism < ARGON2_PARAMS.parallelism
    );
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;

/**
 * A hash of a random secret, verified against when the email is unknown so that
 * "no such account" costs the same time as "wrong password".
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummy;
}

/** Why a password is refused by the policy beyond its length, or undefined when it is fine. */
export function weakPasswordReason(password: string): string | undefined {
  const chars = [...password];
  if (chars.length > 0 && chars.every((c) => c === chars[0])) {
    return 'password must not repeat a single character.';
  }
  if (COMMON_PASSWORDS.has(password.toLowerCase())) return 'password is too common; choose another.';
  return undefined;
}

/** True when the password contains the email's local part (case-insensitively). */
export function containsEmailLocalPart(password: string, email: string): boolean {
  const localPart = email.split('@')[0]?.toLowerCase() ?? '';
  return localPart.length >= MIN_LOCAL_PART_CHECKED && password.toLowerCase().includes(localPart);
}

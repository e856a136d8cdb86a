import { createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { Knex } from 'knex';
import type { AppContext } from '../../core/context';
import { ProblemError, problems } from '../../core/errors';
import { withDeadline } from '../../../temporal/client';
import { signalNames, workflowIds } from '../../../temporal/names';
import { maskEmail, maskPhone } from '../../core/masking';

/**
 * Proving control of an email address or phone by a one-time code. A code is six
 * digits, valid for 10 minutes and 5 wrong guesses; only its HMAC (keyed by the server
 * secret and the verification's id) is stored, so the table does not give codes away.
 * A new request replaces the outstanding code. In the sandboxes the message, code
 * included, is in the outbox operators read (GET /v1/operator/notifications).
 */

export type Channel = 'email' | 'phone';

export const CODE_TTL_MS = 10 * 60 * 1000;
export const CODE_ATTEMPTS = 5;

const VERIFIED_COLUMN: Record<Channel, 'email_verified_at' | 'phone_verified_at'> = {
  email: 'email_verified_at',
  phone: 'phone_verified_at',
};

/** The same answer for a wrong, expired, spent or missing code: a guesser learns nothing from it. */
export const codeRefused = () =>
  new ProblemError(422, 'verification_failed', 'Verification failed', 'The code is wrong or has expired; request a new one.', [
    { field: 'code', in: 'body', code: 'verification_failed', message: 'The code is wrong or has expired.' },
  ]);

interface VerificationRow {
  id: string;
  purpose: 'verify' | 'change';
  user_id: string;
  channel: Channel;
  destination: string;
  code_hash: Buffer;
  attempts_left: number;
  expires_at: Date;
}

function codeHash(secret: string, id: string, code: string): Buffer {
  return oneTimeCodeHash(secret, 'contact-verification', id, code);
}

/** The HMAC a one-time code is kept as: keyed by the server secret, bound to what it proves (`purpose`) and its row. */
export function oneTimeCodeHash(secret: string, purpose: string, id: string, code: string): Buffer {
  return createHmac('sha256', secret).update(`${purpose}:${id}:${code}`).digest();
}

/** Six random digits. */
export const newOneTimeCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

/** Whether `code` is the one whose HMAC is `expected`, in constant time. */
export const codeMatches = (expected: Buffer, actual: Buffer) => expected.length === actual.length && timingSafeEqual(expected, actual);

const destinationOf = (user: { email: string; phone: string }, channel: Channel) => (channel === 'email' ? user.email : user.phone);
const masked = (channel: Channel, destination: string) => (channel === 'email' ? maskEmail(destination) : maskPhone(destination));

async function userContact(db: Knex, userId: string) {
  const user: { email: string; phone: string; email_verified_at: Date | null; phone_verified_at: Date | null } | undefined = await db('users')
    .where({ id: userId })
    .first('email', 'phone', 'email_verified_at', 'phone_verified_at');
  if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
  return user;
}

/**
 * Issues a fresh code for the user's current email or phone and sends it. The message's
 * dedupe key is the verification's id, so each request sends exactly one message.
 */
export async function startVerification(app: AppContext, userId: string, channel: Channel) {
  const user = await userContact(app.deps.db, userId);
  if (user[VERIFIED_COLUMN[channel]]) throw problems.conflict(`Your ${channel} is already verified.`);
  return issueCode(app, userId, channel, destinationOf(user, channel), 'verify');
}

/**
 * Sends a code to `destination` and keeps only its HMAC, replacing any outstanding code
 * of the channel. `change`: the destination is a new email or phone (PATCH /v1/me) that
 * the code's confirmation puts in place of the current one. The message's dedupe key is
 * the verification's id, so each request sends exactly one message.
 */
export async function issueCode(app: AppContext, userId: string, channel: Channel, destination: string, purpose: 'verify' | 'change') {
  const { db, notifier } = app.deps;
  if (!notifier) throw new Error('verification needs the notifier port (createApp builds it)');
  const id = randomUUID();
  const code = newOneTimeCode();
  const now = app.deps.now();
  const expiresAt = new Date(now.getTime() + CODE_TTL_MS);
  await db('contact_verifications')
    .insert({
      id,
      user_id: userId,
      channel,
      destination,
      purpose,
      code_hash: codeHash(app.config.auth.jwtSecret, id, code),
      attempts_left: CODE_ATTEMPTS,
      expires_at: expiresAt,
      created_at: now,
    })
    .onConflict(['user_id', 'channel'])
    .merge();
  try {
    await notifier.send({
      dedupeKey: `verification:${id}`,
      userId,
      channel: channel === 'email' ? 'email' : 'sms',
      recipient: destination,
      template: 'verification_code',
      body: `Your finflow verification code is ${code}. It expires in 10 minutes. finflow will never ask you for it.`,
    });
  } catch (err) {
    app.deps.logger.warn({ err, userId, channel }, 'verification code not delivered');
    throw problems.verificationNotDelivered(channel);
  }
  return { channel, destination: masked(channel, destination), expiresAt: expiresAt.toISOString(), attemptsLeft: CODE_ATTEMPTS };
}

/**
 * The codes a new customer gets at signup, one per channel. Best effort: the account
 * exists either way, and POST /v1/me/verifications sends a new code.
 */
export async function sendSignupCodes(app: AppContext, userId: string): Promise<void> {
  for (const channel of ['email', 'phone'] as const) {
    try {
      await startVerification(app, userId, channel);
    } catch (err) {
      app.deps.logger.warn({ err, userId, channel }, 'signup verification code not sent');
    }
  }
}

/**
 * Checks a code. A wrong one spends an attempt (under a row lock, so concurrent guesses
 * cannot share one); the right one marks the contact verified if it is still the one
 * the code was sent to. A phone verified by another user already stays theirs: 409.
 */
export async function confirmVerification(app: AppContext, userId: string, channel: Channel, code: string): Promise<void> {
  const { db } = app.deps;
  const now = app.deps.now();
  const outcome = await db.transaction(async (trx): Promise<'verified' | 'refused' | 'taken'> => {
    const row: VerificationRow | undefined = await trx('contact_verifications').where({ user_id: userId, channel }).forUpdate().first();
    if (!row || row.attempts_left <= 0 || row.expires_at.getTime() <= now.getTime()) return 'refused';
    const expected = codeHash(app.config.auth.jwtSecret, row.id, code);
    if (!timingSafeEqual(expected, row.code_hash)) {
      await trx('contact_verifications').where({ id: row.id }).update({ attempts_left: row.attempts_left - 1 });
      return 'refused';
    }
    await trx('contact_verifications').where({ id: row.id }).delete();
    const user = await userContact(trx, userId);
    if (row.purpose === 'change') return (await changeContact(trx, userId, channel, row.destination, now)) ? 'verified' : 'taken';
    if (destinationOf(user, channel) !== row.destination) return 'refused';
    return (await markVerified(trx, userId, channel, now)) ? 'verified' : 'taken';
  });
  if (outcome === 'refused') throw codeRefused();
  if (outcome === 'taken') {
    throw problems.conflict(channel === 'phone' ? 'This phone number is verified by another account; contact support.' : 'This email address belongs to another account.');
  }
  if (channel === 'phone') await announcePhoneVerified(app, userId);
}

/**
 * Marks the contact verified. False when the phone is already verified by someone
 * else (the partial unique index refuses it; a savepoint keeps the transaction usable).
 */
export async function markVerified(db: Knex, userId: string, channel: Channel, now: Date): Promise<boolean> {
  try {
    await db.transaction(async (savepoint) => {
      await savepoint('users').where({ id: userId }).update({ [VERIFIED_COLUMN[channel]]: now });
    });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return false;
    throw err;
  }
}

/**
 * Puts a proved new email or phone in place of the current one, verified. False when
 * another account holds it (an email is unique; a verified phone names one user).
 */
async function changeContact(db: Knex, userId: string, channel: Channel, destination: string, now: Date): Promise<boolean> {
  try {
    await db.transaction(async (savepoint) => {
      // The users trigger clears the verification of a changed contact; it is proved now.
      await savepoint('users').where({ id: userId }).update({ [channel]: destination });
      await savepoint('users').where({ id: userId }).update({ [VERIFIED_COLUMN[channel]]: now });
    });
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === '23505') return false;
    throw err;
  }
}

/** Tells the customer's onboarding that the phone may now receive the welcome SMS. */
export async function announcePhoneVerified(app: AppContext, userId: string): Promise<void> {
  const { temporal } = app.deps;
  try {
    await withDeadline(temporal, app.config.dependencyTimeoutMs, () => temporal.workflow.getHandle(workflowIds.onboarding(userId)).signal(signalNames.phoneVerified));
  } catch (err) {
    // No onboarding (an operator), or it has ended: there is no welcome left to send.
    if (err instanceof WorkflowNotFoundError) return;
    app.deps.logger.warn({ err, userId }, 'could not signal onboarding that the phone is verified');
  }
}

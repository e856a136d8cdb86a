import { randomUUID } from 'node:crypto';
import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { withDeadline } from '../../temporal/client';
import { TASK_QUEUES, searchAttributes, workflowIds } from '../../temporal/names';
import type { OnboardingWorkflow } from '../../workflows/platform/contract';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from './passwords';
import { presentUser, userColumns, type UserRow } from './presenters';
import { revokeFamilyOf, rotateRefreshToken, startFamily } from './refresh-tokens';
import type { SignupBody, TokenPair, User } from './schema';
import { signAccessToken } from '../core/access-tokens';
import { accountKey, loginThrottleKeys, recordFailure, resetFailures, secondsUntilAllowed } from './throttle';
import { createLedger } from '../../ledger/service';
import { accountIdFrom } from '../../ledger/ids';

/** What signup, login, refresh and logout do, apart from HTTP. */

export type Role = User['role'];

/** A new user's details, already validated by `signupBody`. */
export type NewUser = Pick<SignupBody, 'email' | 'password' | 'name' | 'phone' | 'dateOfBirth' | 'referralCode'>;

const DUPLICATE_ACCOUNT = 'An account cannot be created with these details.';
const BAD_CREDENTIALS = 'Invalid email or password.';
const BAD_REFRESH_TOKEN = 'The refresh token is invalid, expired or revoked.';

/** Starts the customer's onboarding workflow; the id is derived, so it can never start twice. */
async function startOnboarding(app: AppContext, customerId: string): Promise<void> {
  const { temporal } = app.deps;
  await withDeadline(temporal, app.config.dependencyTimeoutMs, () =>
    temporal.workflow.start<OnboardingWorkflow>('onboarding', {
      taskQueue: TASK_QUEUES.core,
      workflowId: workflowIds.onboarding(customerId),
      args: [{ customerId }],
      typedSearchAttributes: [
        { key: searchAttributes.CustomerId, value: customerId },
        { key: searchAttributes.BusinessStatus, value: 'started' },
      ],
    }),
  );
}

/**
 * Creates a user; for a customer, also starts onboarding in the same transaction, so
 * a user exists only if their onboarding started (a failed start rolls the insert
 * back, and the problem middleware answers 503). Used by signup and the dev seed.
 * A taken email is a generic 409 that says no more than that.
 */
export async function createUser(app: AppContext, input: NewUser, role: Role): Promise<User> {
  const { db, now } = app.deps;
  // Hashed before the transaction so no connection is held for the ~50 ms it takes,
  // and so a taken email costs as much time as a free one.
  const passwordHash = await hashPassword(input.password);
  const row: Omit<UserRow, 'referral_code' | 'email_verified_at' | 'phone_verified_at' | 'timezone'> = {
    id: randomUUID(),
    email: input.email,
    name: input.name,
    phone: input.phone,
    date_of_birth: input.dateOfBirth,
    role,
    created_at: now(),
  };
  const referralCode = await db.transaction(async (trx): Promise<string | undefined> => {
    // Every user gets a referral code of their own (a column default). A code naming no
    // customer is ignored rather than refused: signup must not reveal which codes exist,
    // and a mistyped code should not block an account (docs/payments.md).
    const referrer: { id: string } | undefined = input.referralCode
      ? await trx('users').where({ referral_code: input.referralCode, role: 'customer' }).first('id')
      : undefined;
    const inserted = await trx('users')
      .insert({ ...row, password_hash: passwordHash, referred_by: referrer?.id ?? null })
      .onConflict('email')
      .ignore()
      .returning('referral_code');
    if (inserted.length === 0) return undefined;
    if (role === 'customer') {
      // Every customer starts with a wallet in the default currency, opened atomically with the user.
      await createLedger(trx).openAccount({
        id: accountIdFrom(`wallet:${row.id}:${app.config.defaultCurrency}`),
        ownerUserId: row.id,
        type: 'wallet',
        currency: app.config.defaultCurrency,
      });
      await startOnboarding(app, row.id);
    }
    return (inserted[0] as { referral_code: string }).referral_code;
  });
  if (referralCode === undefined) throw problems.conflict(DUPLICATE_ACCOUNT);
  return presentUser({ ...row, referral_code: referralCode, email_verified_at: null, phone_verified_at: null, timezone: null });
}

export async function findUser(app: AppContext, userId: string): Promise<User | undefined> {
  const { db } = app.deps;
  const row: UserRow | undefined = await db('users').where({ id: userId }).first(userColumns(db));
  return row && presentUser(row);
}

/** A fresh access token with the given refresh token. */
export function tokenPair(app: AppContext, user: { id: string; role: Role }, refreshToken: string, now: Date): TokenPair {
  return {
    accessToken: signAccessToken(app.config.auth, { sub: user.id, role: user.role }, now),
    refreshToken,
    expiresIn: app.config.auth.accessTokenTtlSeconds,
    tokenType: 'Bearer',
  };
}

/**
 * Checks the throttle before the password, so a throttled caller learns nothing about
 * it; an unknown email is verified against a dummy hash so it takes as long as a wrong
 * password. Concurrent attempts that all pass the check can overshoot the limit by
 * their number: the limit bounds guessing rate, it is not an exact count.
 */
export async function login(app: AppContext, credentials: { email: string; password: string }, address: string): Promise<TokenPair> {
  const { db } = app.deps;
  const { throttle, refreshTokenTtlSeconds } = app.config.auth;
  const now = app.deps.now();
  const keys = loginThrottleKeys(throttle, credentials.email, address);
  const waitSeconds = await secondsUntilAllowed(db, keys, throttle.windowSeconds, now);
  if (waitSeconds !== undefined) throw problems.rateLimited(waitSeconds);

  const user: { id: string; role: Role; password_hash: string } | undefined = await db('users')
    .where({ email: credentials.email })
    .first('id', 'role', 'password_hash');
  const passwordHash = user?.password_hash ?? (await dummyPasswordHash());
  const valid = (await verifyPassword(passwordHash, credentials.password)) && user !== undefined;
  if (!user || !valid) {
    await recordFailure(db, keys, throttle.windowSeconds, now);
    throw problems.unauthenticated(BAD_CREDENTIALS);
  }

  await resetFailures(db, accountKey(credentials.email));
  if (needsRehash(user.password_hash)) {
    await db('users').where({ id: user.id }).update({ password_hash: await hashPassword(credentials.password) });
  }
  const refreshToken = await startFamily(db, user.id, refreshTokenTtlSeconds, now);
  return tokenPair(app, user, refreshToken, now);
}

export async function refresh(app: AppContext, presented: string): Promise<TokenPair> {
  const { db } = app.deps;
  const now = app.deps.now();
  const outcome = await rotateRefreshToken(db, presented, app.config.auth.refreshTokenTtlSeconds, now);
  if (outcome.kind === 'rejected') throw problems.unauthenticated(BAD_REFRESH_TOKEN);
  const user: { id: string; role: Role } | undefined = await db('users').where({ id: outcome.userId }).first('id', 'role');
  // Deleting a user cascades to their tokens, so this only happens in a race with erasure.
  if (!user) throw problems.unauthenticated(BAD_REFRESH_TOKEN);
  return tokenPair(app, user, outcome.refreshToken, now);
}

/** Ends the session the token belongs to (its whole family); unknown tokens are ignored. */
export async function logout(app: AppContext, presented: string): Promise<void> {
  await revokeFamilyOf(app.deps.db, presented, app.deps.now());
}

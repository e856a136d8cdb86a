import { hashPassword, verifyPassword } from '../../auth/passwords';
import { startFamily } from '../../auth/refresh-tokens';
import type { TokenPair } from '../../auth/schema';
import { findUser, tokenPair } from '../../auth/service';
import type { AppContext } from '../../core/context';
import { problems } from '../../core/errors';
import { canonicalTimeZone } from '../../../payments/recurring/period';
import { issueCode, type Channel } from '../verifications/service';
import type { ChangePasswordBody, ProfileBody } from './schema';

/**
 * The signed-in user's own profile and password (docs/security.md, "Profile and
 * password"). Name and timezone change at once; a new email or phone only through a
 * one-time code sent to it, so nobody can point an account at a contact they do not
 * control. A password change ends every session and starts a new one for the caller.
 */

async function currentUser(app: AppContext, userId: string) {
  const user = await findUser(app, userId);
  if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
  return user;
}

export async function updateProfile(app: AppContext, userId: string, body: ProfileBody) {
  const { db } = app.deps;
  const current = await currentUser(app, userId);
  const columns: Record<string, string> = {};
  if (body.name !== undefined) columns.name = body.name;
  if (body.timezone !== undefined) columns.timezone = canonicalTimeZone(body.timezone) ?? body.timezone;
  if (Object.keys(columns).length > 0) await db('users').where({ id: userId }).update(columns);

  const changes: Array<[Channel, string]> = [];
  if (body.email !== undefined && body.email !== current.email) changes.push(['email', body.email]);
  if (body.phone !== undefined && body.phone !== current.phone) changes.push(['phone', body.phone]);
  if (body.email !== undefined && changes.some(([channel]) => channel === 'email')) {
    // Told now rather than after the code: the address cannot become this account's.
    const taken = await db('users').where({ email: body.email }).whereNot({ id: userId }).first('id');
    if (taken) throw problems.field('body', 'email', 'email_taken', 'This email address belongs to another account.');
  }
  const pendingVerifications = [];
  for (const [channel, destination] of changes) pendingVerifications.push(await issueCode(app, userId, channel, destination, 'change'));
  return { user: await currentUser(app, userId), pendingVerifications };
}

/**
 * Changes the password when the current one is right; a wrong one changes nothing. Every
 * refresh token of the user is revoked (each other session ends when its access token
 * expires, within ACCESS_TOKEN_TTL_SECONDS) and the caller gets a fresh pair.
 */
export async function changePassword(app: AppContext, userId: string, body: ChangePasswordBody): Promise<TokenPair> {
  const { db } = app.deps;
  const user: { id: string; role: 'customer' | 'operator'; email: string; password_hash: string } | undefined = await db('users')
    .where({ id: userId })
    .first('id', 'role', 'email', 'password_hash');
  if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
  if (!(await verifyPassword(user.password_hash, body.currentPassword))) throw problems.currentPasswordIncorrect();
  return setPassword(app, user, body.newPassword);
}

/** Stores a new password hash, revokes every session of the user and opens one new session. */
export async function setPassword(app: AppContext, user: { id: string; role: 'customer' | 'operator' }, newPassword: string): Promise<TokenPair> {
  const { db } = app.deps;
  const now = app.deps.now();
  const passwordHash = await hashPassword(newPassword);
  const refreshToken = await db.transaction(async (trx) => {
    await trx('users').where({ id: user.id }).update({ password_hash: passwordHash });
    await trx('refresh_tokens').where({ user_id: user.id }).whereNull('revoked_at').update({ revoked_at: now });
    return startFamily(trx, user.id, app.config.auth.refreshTokenTtlSeconds, now);
  });
  return tokenPair(app, user, refreshToken, now);
}

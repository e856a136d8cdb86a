import { randomUUID } from 'node:crypto';
import type { AppContext } from '../../core/context';
import { CODE_ATTEMPTS, CODE_TTL_MS, codeMatches, codeRefused, newOneTimeCode, oneTimeCodeHash } from '../../me/verifications/service';
import { setPassword } from '../../me/profile/service';
import type { TokenPair } from '../schema';
import type { ConfirmPasswordResetBody } from './schema';

/**
 * Password reset by a one-time code sent to the account's verified email (docs/security.md,
 * "Password reset"). The request answers the same whether or not the address has an
 * account (or a verified email), so it does not tell which addresses exist. The code
 * is six digits, valid 10 minutes and 5 wrong guesses, kept only as an HMAC; confirming
 * it sets the password and ends every session.
 */

const PURPOSE = 'password-reset';

export async function requestPasswordReset(app: AppContext, email: string): Promise<void> {
  const { db, notifier } = app.deps;
  if (!notifier) throw new Error('password reset needs the notifier port (createApp builds it)');
  const user: { id: string } | undefined = await db('users').where({ email }).whereNotNull('email_verified_at').first('id');
  if (!user) return;
  const id = randomUUID();
  const code = newOneTimeCode();
  const hash = oneTimeCodeHash(app.config.auth.jwtSecret, PURPOSE, id, code);
  const now = app.deps.now();
  await db('password_resets')
    .insert({ id, user_id: user.id, code_hash: hash, attempts_left: CODE_ATTEMPTS, expires_at: new Date(now.getTime() + CODE_TTL_MS), created_at: now })
    .onConflict('user_id')
    .merge();
  try {
    await notifier.send({
      dedupeKey: `password-reset:${id}`,
      userId: user.id,
      channel: 'email',
      recipient: email,
      template: 'password_reset_code',
      body: `Your finflow password reset code is ${code}. It expires in 10 minutes. If you did not ask for it, ignore this message: your password is unchanged.`,
    });
  } catch (err) {
    // Answered as sent all the same: a failure here must not reveal that the account exists.
    app.deps.logger.warn({ err, userId: user.id }, 'password reset code not delivered');
  }
}

/** Sets the new password if the code is right; a wrong, expired or spent code (or no account) is one answer. */
export async function confirmPasswordReset(app: AppContext, body: ConfirmPasswordResetBody): Promise<TokenPair> {
  const { db } = app.deps;
  const now = app.deps.now();
  const user = await db.transaction(async (trx) => {
    const row: { id: string; user_id: string; role: 'customer' | 'operator'; code_hash: Buffer; attempts_left: number; expires_at: Date } | undefined = await trx('password_resets')
      .join('users', 'users.id', 'password_resets.user_id')
      .where('users.email', body.email)
      .forUpdate()
      .first('password_resets.id', 'password_resets.user_id', 'users.role', 'password_resets.code_hash', 'password_resets.attempts_left', 'password_resets.expires_at');
    if (!row || row.attempts_left <= 0 || row.expires_at.getTime() <= now.getTime()) return undefined;
    if (!codeMatches(oneTimeCodeHash(app.config.auth.jwtSecret, PURPOSE, row.id, body.code), row.code_hash)) {
      await trx('password_resets').where({ id: row.id }).update({ attempts_left: row.attempts_left - 1 });
      return undefined;
    }
    await trx('password_resets').where({ id: row.id }).delete();
    return { id: row.user_id, role: row.role };
  });
  if (!user) throw codeRefused();
  return setPassword(app, user, body.newPassword);
}

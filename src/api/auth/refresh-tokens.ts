import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';

/**
 * Opaque refresh tokens: 32 random bytes, base64url, handed to the client once and
 * stored only as a SHA-256 hash. A family is one login; every refresh marks the
 * presented token used and issues the next one in the family. Presenting a used token
 * means it leaked (or a client raced itself), so the whole family is revoked.
 */

const TOKEN_BYTES = 32;

interface RefreshTokenRow {
  id: string;
  family_id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export type RotationOutcome =
  | { kind: 'rotated'; userId: string; refreshToken: string }
  | { kind: 'rejected'; reason: 'unknown' | 'expired' | 'reused' };

export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/** Stores a new token of `familyId` and returns the only copy of its plaintext. */
export async function issueRefreshToken(
  db: Knex,
  { userId, familyId, ttlSeconds, now }: { userId: string; familyId: string; ttlSeconds: number; now: Date },
): Promise<string> {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  await db('refresh_tokens').insert({
    id: randomUUID(),
    family_id: familyId,
    user_id: userId,
    token_hash: hashRefreshToken(token),
    created_at: now,
    expires_at: new Date(now.getTime() + ttlSeconds * 1000),
  });
  return token;
}

/** Starts a family (one per login) and returns its first token. */
export function startFamily(db: Knex, userId: string, ttlSeconds: number, now: Date): Promise<string> {
  return issueRefreshToken(db, { userId, familyId: randomUUID(), ttlSeconds, now });
}

async function revokeFamily(db: Knex, familyId: string, now: Date): Promise<void> {
  await db('refresh_tokens').where({ family_id: familyId }).whereNull('revoked_at').update({ revoked_at: now });
}

/**
 * Spends `token` and issues its successor in one transaction. The row lock (`for
 * update`) makes a second concurrent refresh of the same token wait, then see it used
 * and revoke the family: two refreshes of one token never both succeed. A rejection is
 * returned rather than thrown so the revocation commits.
 */
export function rotateRefreshToken(db: Knex, token: string, ttlSeconds: number, now: Date): Promise<RotationOutcome> {
  return db.transaction(async (trx): Promise<RotationOutcome> => {
    const row: RefreshTokenRow | undefined = await trx('refresh_tokens')
      .where({ token_hash: hashRefreshToken(token) })
      .forUpdate()
      .first('id', 'family_id', 'user_id', 'expires_at', 'used_at', 'revoked_at');
    if (!row) return { kind: 'rejected', reason: 'unknown' };
    if (row.used_at || row.revoked_at) {
      await revokeFamily(trx, row.family_id, now);
      return { kind: 'rejected', reason: 'reused' };
    }
    if (row.expires_at.getTime() <= now.getTime()) return { kind: 'rejected', reason: 'expired' };
    await trx('refresh_tokens').where({ id: row.id }).update({ used_at: now });
    const refreshToken = await issueRefreshToken(trx, { userId: row.user_id, familyId: row.family_id, ttlSeconds, now });
    return { kind: 'rotated', userId: row.user_id, refreshToken };
  });
}

/** Revokes the family `token` belongs to; an unknown token changes nothing. */
export async function revokeFamilyOf(db: Knex, token: string, now: Date): Promise<void> {
  await db('refresh_tokens')
    .whereIn('family_id', db('refresh_tokens').select('family_id').where({ token_hash: hashRefreshToken(token) }))
    .whereNull('revoked_at')
    .update({ revoked_at: now });
}

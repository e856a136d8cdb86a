import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../../config';
import type { Principal } from './context';

/**
 * Access tokens, signed at login (auth/) and verified by every route that needs one
 * (core/middleware/auth.ts, the codec's browser sign-in). They are HS256 JWTs (RFC 9068
 * profile): the algorithm, issuer, audience and `typ: at+jwt` header are pinned on both
 * sides, so a token of another kind or from another issuer is refused.
 */

const ALGORITHM = 'HS256' as const;
const ACCESS_TOKEN_TYP = 'at+jwt';

export interface AccessClaims {
  sub: string;
  role: 'customer' | 'operator';
}

/**
 * The signing secret as a KeyObject, made once per secret. Given a string, jsonwebtoken
 * first tries to read it as a PEM public key on every call, and that failed parse cost
 * about 4 ms of CPU per authenticated request (bench/api.ts found it).
 */
const secretKeys = new Map<string, KeyObject>();

function secretKey(secret: string): KeyObject {
  let key = secretKeys.get(secret);
  if (!key) {
    key = createSecretKey(Buffer.from(secret));
    secretKeys.set(secret, key);
  }
  return key;
}

export function signAccessToken(auth: Config['auth'], claims: AccessClaims, now: Date = new Date()): string {
  return jwt.sign({ role: claims.role, iat: Math.floor(now.getTime() / 1000) }, secretKey(auth.jwtSecret), {
    algorithm: ALGORITHM,
    header: { alg: ALGORITHM, typ: ACCESS_TOKEN_TYP },
    subject: claims.sub,
    issuer: auth.issuer,
    audience: auth.audience,
    expiresIn: auth.accessTokenTtlSeconds,
  });
}

/** Returns the principal a valid access token stands for, or undefined. */
export function verifyAccessToken(auth: Config['auth'], token: string, now: Date = new Date()): Principal | undefined {
  try {
    const decoded = jwt.verify(token, secretKey(auth.jwtSecret), {
      algorithms: [ALGORITHM],
      issuer: auth.issuer,
      audience: auth.audience,
      complete: true,
      clockTimestamp: Math.floor(now.getTime() / 1000),
    });
    if (decoded.header.typ !== ACCESS_TOKEN_TYP) return undefined;
    const payload = decoded.payload as jwt.JwtPayload;
    if (typeof payload.sub !== 'string' || (payload.role !== 'customer' && payload.role !== 'operator')) return undefined;
    return { kind: 'user', userId: payload.sub, role: payload.role };
  } catch {
    return undefined;
  }
}

import type { ParameterizedContext } from 'koa';
import { isValidPlivoSignature, PLIVO_NONCE_HEADER, PLIVO_SIGNATURE_HEADER } from '../../providers/sms/plivo';
import type { AppContext, AppState } from '../core/context';
import { problems } from '../core/errors';

/**
 * Plivo signs each callback (V3: HMAC-SHA256 with the account's auth token over the URL
 * it called, the posted params sorted by name, and a nonce). The URL is the one Plivo
 * saw: PUBLIC_URL plus the path and query this request arrived with, so a proxy or
 * tunnel in front of the API does not break the check. Without PUBLIC_URL the request's
 * own origin stands in (right only when Plivo calls the API directly).
 */

/** The posted form fields exactly as sent, from the raw body rather than the parsed one. */
export function rawFormParams(rawBody: string | undefined): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(rawBody ?? '')) {
    const seen = params[name];
    params[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return params;
}

export function publicRequestUrl(app: AppContext, ctx: ParameterizedContext<AppState>): string {
  const base = (app.config.http.publicUrl ?? ctx.origin).replace(/\/+$/, '');
  return `${base}${ctx.originalUrl}`;
}

/**
 * How a webhook answers a request with no signature at all: 401 (the callbacks), or 403
 * like a wrong one (the inbound-message webhooks, which store nothing unsigned).
 */
export interface SignaturePolicy {
  unsigned: 'unauthenticated' | 'forbidden';
}

export const CALLBACK_POLICY: SignaturePolicy = { unsigned: 'unauthenticated' };

export const refuseUnsigned = (policy: SignaturePolicy, detail: string) => (policy.unsigned === 'forbidden' ? problems.forbidden(detail) : problems.unauthenticated(detail));

/** Throws for an unsigned request (401 by default), 403 for a wrongly signed one (or when no token is set). */
export function verifyPlivoSignature(app: AppContext, ctx: ParameterizedContext<AppState>, policy: SignaturePolicy = CALLBACK_POLICY): void {
  const signature = ctx.get(PLIVO_SIGNATURE_HEADER);
  const nonce = ctx.get(PLIVO_NONCE_HEADER);
  if (!signature || !nonce) throw refuseUnsigned(policy, 'The request carries no Plivo V3 signature.');
  const authToken = app.config.sms.plivo.authToken;
  if (!authToken) {
    ctx.state.log.warn('Plivo callback received but PLIVO_AUTH_TOKEN is not set; rejecting it');
    throw problems.forbidden('Plivo callbacks are not accepted: no PLIVO_AUTH_TOKEN is configured.');
  }
  const valid = isValidPlivoSignature({
    method: 'POST',
    url: publicRequestUrl(app, ctx),
    nonce,
    signature,
    authToken,
    params: rawFormParams((ctx.request as { rawBody?: string }).rawBody),
  });
  if (!valid) throw problems.forbidden('The Plivo signature does not match this request.');
}

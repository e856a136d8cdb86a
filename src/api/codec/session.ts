import Router from '@koa/router';
import type { AppContext, AppState } from '../core/context';
import { login, logout } from '../auth/service';
import { LoginBody } from '../auth/schema';
import { verifyAccessToken } from '../core/access-tokens';
import { problems } from '../core/errors';
import { fieldErrors, nulCharacterErrors } from '../core/route';
import { CODEC_BASE_PATH, CODEC_COOKIE } from './routes';

/**
 * A browser sign-in for the codec endpoint. The Temporal Web UI calls `/codec/decode`
 * from the operator's browser and, without a login of its own (the dev server's UI),
 * sends no Authorization header; with "Include cross-origin credentials" on in its
 * codec settings it sends cookies. An operator signs in here once: the cookie holds
 * their short-lived access token, is HttpOnly, SameSite=Strict and scoped to /codec,
 * so no other route accepts it and no script can read it.
 */

const page = (body: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>finflow payload codec</title></head>
<body>
${body}
</body>
</html>`;

const FORM = page(`<h1>Payload codec sign-in (operators)</h1>
<form method="post" action="${CODEC_BASE_PATH}/login">
  <p><label>Email <input name="email" type="email" autocomplete="username" required></label></p>
  <p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
  <p><button type="submit">Sign in</button></p>
</form>`);

export function codecSessionRouter(app: AppContext): Router<AppState> {
  const router = new Router<AppState>();
  router.get(`${CODEC_BASE_PATH}/login`, (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = FORM;
  });
  router.post(`${CODEC_BASE_PATH}/login`, async (ctx) => {
    const body = (ctx.request as { body?: unknown }).body;
    const nul = nulCharacterErrors(body, 'body');
    if (nul.length > 0) throw problems.validation(nul);
    const parsed = LoginBody.safeParse(body);
    if (!parsed.success) throw problems.validation(fieldErrors(parsed.error, 'body'));
    const tokens = await login(app, parsed.data, ctx.ip);
    // Only the access token is kept; the refresh token's session ends at once.
    await logout(app, tokens.refreshToken);
    const principal = verifyAccessToken(app.config.auth, tokens.accessToken, app.deps.now());
    if (principal?.kind !== 'user' || principal.role !== 'operator') throw problems.forbidden('Only operators may read decrypted payloads.');
    ctx.cookies.set(CODEC_COOKIE, tokens.accessToken, {
      httpOnly: true,
      sameSite: 'strict',
      path: CODEC_BASE_PATH,
      secure: ctx.secure,
      maxAge: tokens.expiresIn * 1000,
      overwrite: true,
    });
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = page(`<h1>Signed in for the payload codec</h1>
<p>For the next ${Math.round(tokens.expiresIn / 60)} minutes the Temporal Web UI shows decrypted payloads, once
"Include cross-origin credentials" is on in its codec settings.</p>`);
  });
  return router;
}

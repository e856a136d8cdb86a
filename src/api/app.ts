import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import type { Config } from '../config';
import type { AppContext, AppDeps, AppState } from './core/context';
import { problems } from './core/errors';
import { problemMiddleware } from './core/middleware/problem';
import { requestContext } from './core/middleware/request-context';
import { clientAddressMiddleware } from './core/client-address';
import { buildOpenApiDocument } from './core/openapi';
import { mountRoute, type RouteSpec } from './core/route';
import { docsRouter } from './docs/routes';
import { healthRoutes } from './health/routes';
import { authRoutes } from './auth/routes';
import { meRoutes } from './me/routes';
import { verificationRoutes } from './me/verifications/routes';
import { accountRoutes } from './accounts/routes';
import { cardPaymentRoutes } from './accounts/payments/routes';
import { accountStatementRoutes } from './accounts/statements/routes';
import { statementRoutes } from './statements/routes';
import { inboundSmsRoutes } from './webhooks/inbound';
import { walletRoutes } from './wallet/routes';
import { transferRoutes } from './transfers/routes';
import { billerRoutes } from './billers/routes';
import { paymentRoutes } from './payments/routes';
import { recurringPaymentRoutes } from './recurring-payments/routes';
import { operatorRoutes } from './operator/routes';
import { internalLedgerRoutes } from './internal/ledger/routes';
import { internalAccountRoutes } from './internal/accounts/routes';
import { internalUserRoutes } from './internal/users/routes';
import { internalPaymentRoutes } from './internal/payments/routes';
import { internalPostingRoutes } from './internal/postings/routes';
import { auditRoutes } from './internal/audit/routes';
import { webhookRoutes } from './webhooks/routes';
import { cardRoutes } from './cards/routes';
import { internalCardRoutes } from './internal/cards/routes';
import { internalCardFileRoutes } from './internal/card-files/routes';
import { auditTrail } from './core/middleware/audit-trail';

/** No request of ours nests deeper than a few levels; 32 leaves room and bounds the work. */
export const MAX_BODY_DEPTH = 32;

/** Depth of a parsed JSON value (a scalar is 0), walked without recursion; stops counting past `cap`. */
export function nestingDepth(value: unknown, cap: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (node === null || typeof node !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > cap) return deepest;
    for (const child of Object.values(node as Record<string, unknown>)) stack.push([child, depth + 1]);
  }
  return deepest;
}
import { CODEC_BASE_PATH, codecRoutes } from './codec/routes';
// campaigns
import { contactRoutes } from './contacts/routes';
import { templateRoutes } from './templates/routes';
import { segmentRoutes } from './segments/routes';
import { campaignRoutes } from './campaigns/routes';
import { codecSessionRouter } from './codec/session';
// Issue 13: wallet customers' and operators' gaps.
import { cashbackRoutes } from './cashback/routes';
import { internalUserViewRoutes } from './internal/users/view';
import { profileRoutes } from './me/profile/routes';
import { passwordResetRoutes } from './auth/password-reset/routes';
import { createApiMetrics, metricsMiddleware, metricsRouter } from './core/metrics';
import { tracingMiddleware } from '../observability/tracing';
// Invoices (docs/invoices.md).
import { mailboxRoutes } from './me/mailbox/routes';
import { invoiceRoutes } from './invoices/routes';
import { internalInvoiceRoutes } from './internal/invoices/routes';

/**
 * Every resource's routes, in the order they appear in the OpenAPI document.
 *
 * A route lives in the folder its path names: `/v1/<resource>/…` in `src/api/<resource>/`,
 * `/internal/v1/<resource>/…` (the bank side and operator tools) in
 * `src/api/internal/<resource>/`, and an unversioned path (`/health`, `/webhooks/…`,
 * `/codec/…`, `/docs` with `/openapi.json`) in the folder of its first segment. A
 * folder may keep a sub-resource in a subfolder named by the sub-resource's segment
 * (`me/verifications/`; `accounts/payments/` for `/v1/accounts/{cardId}/payments`).
 * What routes share (route declaration, errors, pagination, middleware, request
 * helpers) is in `core/`, which imports no resource folder.
 */
export function allRoutes(app: AppContext): RouteSpec[] {
  return [
    ...healthRoutes(app),
    ...authRoutes(app),
    ...meRoutes(app),
    ...verificationRoutes(app),
    ...accountRoutes(app),
    ...walletRoutes(app),
    ...transferRoutes(app),
    ...billerRoutes(app),
    ...paymentRoutes(app),
    ...cardPaymentRoutes(app),
    ...recurringPaymentRoutes(app),
    ...operatorRoutes(app),
    ...internalLedgerRoutes(app),
    ...internalAccountRoutes(app),
    ...internalUserRoutes(app),
    ...internalPaymentRoutes(app),
    ...internalPostingRoutes(app),
    ...auditRoutes(app),
    ...webhookRoutes(app),
    ...codecRoutes(app),
    // Issue 13.
    ...cashbackRoutes(app),
    ...internalUserViewRoutes(app),
    ...profileRoutes(app),
    ...passwordResetRoutes(app),
    ...accountStatementRoutes(app),
    ...statementRoutes(app),
    ...inboundSmsRoutes(app),
    // cards
    ...cardRoutes(app),
    ...internalCardRoutes(app),
    ...internalCardFileRoutes(app),
    // campaigns
    ...contactRoutes(app),
    ...templateRoutes(app),
    ...segmentRoutes(app),
    ...campaignRoutes(app),
    // Invoices (docs/invoices.md).
    ...mailboxRoutes(app),
    ...invoiceRoutes(app),
    ...internalInvoiceRoutes(app),
  ];
}

const REGISTERED = new WeakMap<Koa<AppState>, Array<{ method: string; path: string }>>();

/**
 * What an app built by createApp routes, read from its routers (method and Koa path,
 * HEAD left out: it follows GET). The access tests check their own hand-written table
 * against it, so a route added without an entry there fails.
 */
export function registeredRoutes(app: Koa<AppState>): Array<{ method: string; path: string }> {
  return REGISTERED.get(app) ?? [];
}

/**
 * Builds the Koa application without listening, so tests and the entry point share
 * it. The middleware chain: request id and log → client address → operator audit trail →
 * problem+json → security headers →
 * CORS → body (size-limited JSON) → routes.
 */
export function createApp(config: Config, deps: AppDeps): Koa<AppState> {
  const context: AppContext = { config, deps: { now: () => new Date(), ...deps } };
  // Koa's own `proxy` stays off: X-Forwarded-For is read only by clientAddressMiddleware.
  const app = new Koa<AppState>();
  const routes = allRoutes(context);
  const router = new Router<AppState>();
  for (const spec of routes) mountRoute(router, context, spec);
  const docs = docsRouter(buildOpenApiDocument(routes, config.http.publicUrl));

  const allowedOrigins = new Set(config.http.corsOrigins);
  const codecOrigins = new Set(config.temporal.codecCorsOrigins);
  const codecCors = cors({
    origin: (ctx) => (codecOrigins.has(ctx.get('origin')) ? ctx.get('origin') : ''),
    allowMethods: ['POST'],
    // What the Web UI sends: its namespace, and the operator's token when it passes one.
    allowHeaders: ['Authorization', 'Content-Type', 'X-Namespace'],
    exposeHeaders: ['X-Request-Id'],
    credentials: true,
    maxAge: 600,
  });
  app.use(requestContext(deps.logger));
  const metrics = createApiMetrics();
  app.use(metricsMiddleware(metrics));
  // A span per request when a tracer provider is installed (a no-op otherwise).
  app.use(tracingMiddleware());
  app.use(clientAddressMiddleware(config.http.trustProxy));
  // Outside the problem middleware, so the trail records the status the caller received.
  app.use(auditTrail(context));
  app.use(problemMiddleware());
  app.use(helmet());
  // The codec endpoint answers the Temporal Web UI's origin, and only that one; the
  // rest of the API keeps CORS_ORIGINS. A preflight ends in the first CORS middleware.
  app.use((ctx, next) => (ctx.path.startsWith(`${CODEC_BASE_PATH}/`) ? codecCors(ctx, next) : next()));
  app.use(
    cors({
      origin: (ctx) => {
        const origin = ctx.get('origin');
        return allowedOrigins.has('*') || allowedOrigins.has(origin) ? origin : '';
      },
      allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
      exposeHeaders: ['Location', 'X-Request-Id', 'Idempotent-Replayed', 'Retry-After'],
      maxAge: 600,
    }),
  );
  app.use(
    bodyParser({
      enableTypes: ['json', 'form'],
      jsonLimit: config.http.bodyLimitBytes,
      formLimit: config.http.bodyLimitBytes,
      // Any JSON value parses, so `[]`, `"text"` or `42` where an object is expected is a
      // validation_error naming the body, not malformed_json: it is well-formed JSON.
      jsonStrict: false,
      // DELETE /v1/me carries the password that re-authenticates the erasure.
      parsedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],
      onError: (err) => {
        const status = (err as { status?: number }).status;
        if (status === 413) throw problems.payloadTooLarge(config.http.bodyLimitBytes);
        // raw-body: an unsupported charset or Content-Encoding.
        if (status === 415) throw problems.unsupportedMediaType();
        // The JSON parser refuses prototype-poisoning keys; the body is well-formed, so say what is wrong.
        if (/forbidden prototype property/i.test(err.message)) {
          throw problems.field('body', 'body', 'forbidden_key', 'The body must not contain __proto__ or constructor.prototype keys.');
        }
        throw problems.malformedJson();
      },
    }),
  );
  // Non-strict parsing reads an empty JSON body as ''; it means no body, as it did before.
  // A body nested deeper than any request of ours is refused before anything walks it
  // (validation, the idempotency fingerprint), so it is a 400 and never a stack overflow.
  app.use(async (ctx, next) => {
    const request = ctx.request as { body?: unknown; rawBody?: string };
    if (request.rawBody === '' && request.body === '') request.body = {};
    if (nestingDepth(request.body, MAX_BODY_DEPTH) > MAX_BODY_DEPTH) {
      throw problems.field('body', 'body', 'too_deep', `The request body is nested deeper than ${MAX_BODY_DEPTH} levels.`);
    }
    await next();
  });
  const codecSession = codecSessionRouter(context);
  const metricsRoutes = metricsRouter(metrics, config.observability.metricsToken);
  const routers = [docs, codecSession, router, metricsRoutes];
  REGISTERED.set(
    app,
    routers.flatMap((r) => r.stack.flatMap((layer) => layer.methods.filter((m) => m !== 'HEAD').map((method) => ({ method, path: String(layer.path) })))),
  );
  app.use(methodGuard(routers));
  app.use(docs.routes());
  app.use(codecSession.routes());
  app.use(router.routes());
  app.use(metricsRoutes.routes());
  return app;
}

/**
 * A path that exists answers any method it does not declare (TRACE, CONNECT, PROPFIND,
 * or a plain method it lacks) with a 405 problem and `Allow`, and OPTIONS with 204 and
 * `Allow`. Koa-router's own `allowedMethods` answers unknown methods with 501, which
 * reads as a server fault. The most specific routes decide: `/v1/payments/quote` also
 * matches `/v1/payments/:id`, but only the static path is that resource, so a GET of it
 * is a 405, not a payment lookup. A path no route has is left to the 404.
 */
function methodGuard(routers: Array<Router<AppState>>): Koa.Middleware<AppState> {
  return async (ctx, next) => {
    const layers = routers.flatMap((router) => router.match(ctx.path, ctx.method).path);
    if (layers.length === 0) return next();
    const fewestParams = Math.min(...layers.map((layer) => layer.paramNames.length));
    const allowed = new Set(layers.filter((layer) => layer.paramNames.length === fewestParams).flatMap((layer) => layer.methods));
    if (allowed.has(ctx.method)) return next();
    const allow = [...allowed, 'OPTIONS'].join(', ');
    if (ctx.method === 'OPTIONS') {
      ctx.status = 204;
      ctx.set('Allow', allow);
      return;
    }
    throw problems.methodNotAllowed(allow);
  };
}

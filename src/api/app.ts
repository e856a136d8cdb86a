import Koa from 'koa';
import Router from '@koa/router';
import { bodyParser } from '@koa/bodyparser';
import cors from '@koa/cors';
import helmet from 'koa-helmet';
import type { Config } from '../config';
import type { AppContext, AppDeps, AppState } from './context';
import { problems } from './errors';
import { problemMiddleware } from './middleware/problem';
import { requestContext } from './middleware/request-context';
import { buildOpenApiDocument } from './openapi';
import { mountRoute, type RouteSpec } from './route';
import { docsRouter } from './docs/routes';
import { healthRoutes } from './health/routes';
import { authRoutes } from './auth/routes';
import { operatorRoutes } from './operator/routes';

/** Every resource's routes, in the order they appear in the OpenAPI document. */
export function allRoutes(app: AppContext): RouteSpec[] {
  return [...healthRoutes(app), ...authRoutes(app), ...operatorRoutes(app)];
}

/**
 * Builds the Koa application without listening, so tests and the entry point share
 * it. The middleware chain: request id and log → problem+json → security headers →
 * CORS → body (size-limited JSON) → routes.
 */
export function createApp(config: Config, deps: AppDeps): Koa<AppState> {
  const context: AppContext = { config, deps: { now: () => new Date(), ...deps } };
  const app = new Koa<AppState>({ proxy: config.http.trustProxy });
  const routes = allRoutes(context);
  const router = new Router<AppState>();
  for (const spec of routes) mountRoute(router, context, spec);
  const docs = docsRouter(buildOpenApiDocument(routes, config.http.publicUrl));

  const allowedOrigins = new Set(config.http.corsOrigins);
  app.use(requestContext(deps.logger));
  app.use(problemMiddleware());
  app.use(helmet());
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
      jsonStrict: true,
      onError: (err) => {
        const status = (err as { status?: number }).status;
        throw status === 413 ? problems.payloadTooLarge(config.http.bodyLimitBytes) : problems.malformedJson();
      },
    }),
  );
  app.use(docs.routes());
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

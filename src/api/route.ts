import type Router from '@koa/router';
import type { Middleware, ParameterizedContext } from 'koa';
import type { OpenAPIRegistry, RouteConfig } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { problems, type FieldError } from './errors';
import type { AppState } from './context';
import { authenticate, type Access } from './middleware/auth';
import { idempotent } from './middleware/idempotency';
import type { AppContext } from './context';

/**
 * A route is declared once: its schemas validate the request and describe it in the
 * OpenAPI document, its `access` picks the auth check, `idempotency` wraps the handler
 * in the Idempotency-Key middleware. The chain a request walks is exactly
 * auth → validate → idempotency → handler.
 */

type AnyObject = z.ZodObject<z.ZodRawShape>;

export interface RouteInput<B, Q, P> {
  body: B;
  query: Q;
  params: P;
}

export type RouteHandler<B, Q, P> = (
  ctx: ParameterizedContext<AppState>,
  input: RouteInput<B, Q, P>,
) => Promise<void>;

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends AnyObject = AnyObject, P extends AnyObject = AnyObject> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa-style path, e.g. `/v1/accounts/:id`. */
  path: string;
  summary: string;
  tags: string[];
  access: Access;
  /** `optional`: honoured when the header is sent; `required`: 400 without it. */
  idempotency?: 'optional' | 'required';
  body?: B;
  /**
   * How the body is encoded: JSON (the default) or an HTML form, as provider webhooks
   * post. Either way the body parser has parsed it; the raw text stays on ctx.request.rawBody.
   */
  bodyType?: 'json' | 'form';
  query?: Q;
  params?: P;
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  handler: RouteHandler<z.infer<B>, z.infer<Q>, z.infer<P>>;
}

/** Keeps the generic types of one route while storing many in one array. */
export function route<B extends z.ZodType, Q extends AnyObject, P extends AnyObject>(spec: RouteSpec<B, Q, P>): RouteSpec {
  return spec;
}

export function fieldErrors(error: z.ZodError, location: FieldError['in']): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : location,
    in: location,
    code: issue.code,
    message: issue.message,
  }));
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, location: FieldError['in']): { value: T; errors: FieldError[] } {
  if (!schema) return { value: undefined as T, errors: [] };
  const result = schema.safeParse(value);
  return result.success ? { value: result.data, errors: [] } : { value: undefined as T, errors: fieldErrors(result.error, location) };
}

const mediaType = (spec: RouteSpec) => (spec.bodyType === 'form' ? 'application/x-www-form-urlencoded' : 'application/json');

function validate(spec: RouteSpec): Middleware<AppState> {
  return async (ctx, next) => {
    if (spec.body && ctx.request.length && !ctx.is(mediaType(spec))) throw problems.unsupportedMediaType(mediaType(spec));
    const body = parse(spec.body, (ctx.request as { body?: unknown }).body, 'body');
    const query = parse(spec.query, ctx.query, 'query');
    const params = parse(spec.params, ctx.params, 'path');
    const errors = [...params.errors, ...query.errors, ...body.errors];
    if (errors.length > 0) throw problems.validation(errors);
    ctx.state.input = { body: body.value, query: query.value, params: params.value };
    await next();
  };
}

const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

export function registerOpenApi(registry: OpenAPIRegistry, spec: RouteSpec): void {
  // OpenAPI 3.1 lets a non-OAuth requirement list the roles it needs: clients (and the
  // contract tests) can tell a customer route from an operator route. Requirements in
  // the array are alternatives: `internal` takes the service token or an operator.
  const security: Array<Record<string, string[]>> =
    spec.access === 'public'
      ? []
      : spec.access === 'service'
        ? [{ serviceToken: [] }]
        : spec.access === 'internal'
          ? [{ serviceToken: [] }, { bearerAuth: ['operator'] }]
          : [{ bearerAuth: spec.access === 'user' ? [] : [spec.access] }];
  const headers = spec.idempotency
    ? [z.string().min(1).max(255).meta({ param: { name: 'Idempotency-Key', in: 'header', required: spec.idempotency === 'required' } })]
    : undefined;
  const config: RouteConfig = {
    method: spec.method,
    path: toOpenApiPath(spec.path),
    summary: spec.summary,
    tags: spec.tags,
    security,
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(headers ? { headers } : {}),
      ...(spec.body ? { body: { required: true, content: { [mediaType(spec)]: { schema: spec.body } } } } : {}),
    },
    responses: Object.fromEntries(
      Object.entries(spec.responses).map(([status, r]) => [
        status,
        r.schema ? { description: r.description, content: { 'application/json': { schema: r.schema } } } : { description: r.description },
      ]),
    ),
  };
  registry.registerPath(config);
}

export function mountRoute(router: Router<AppState>, app: AppContext, spec: RouteSpec): void {
  const chain: Middleware<AppState>[] = [authenticate(app, spec.access), validate(spec)];
  if (spec.idempotency) chain.push(idempotent(app, { required: spec.idempotency === 'required', route: `${spec.method.toUpperCase()} ${spec.path}` }));
  chain.push(async (ctx) => {
    const input = ctx.state.input as RouteInput<unknown, unknown, unknown>;
    await spec.handler(ctx, input as never);
  });
  router[spec.method](spec.path, ...(chain as [Middleware<AppState>]));
}

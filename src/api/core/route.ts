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

/**
 * A rule the route enforces that no JSON Schema keyword can state (it depends on other
 * fields, on stored data, or on a registry such as IANA timezones). The OpenAPI
 * document names each one on its operation (`x-finflow-unstated-rules` and the
 * description), so a client, and the schemathesis run, know a schema-valid request
 * may still be refused with a 400/422 naming `field` with `code`.
 */
export interface UnstatedRule {
  /** Stable name, e.g. `issued-cursor`. */
  rule: string;
  in: FieldError['in'];
  field: string;
  /** The `errors[].code` the refusal carries. */
  code: string;
  description: string;
}

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends AnyObject = AnyObject, P extends AnyObject = AnyObject> {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** Koa-style path, e.g. `/v1/accounts/:id`. */
  path: string;
  summary: string;
  tags: string[];
  access: Access;
  /** A cookie that may carry the access token when no Authorization header is sent (the codec's browser sign-in). */
  cookie?: string;
  /** `optional`: honoured when the header is sent; `required`: 400 without it. */
  idempotency?: 'optional' | 'required';
  body?: B;
  /**
   * How the body is encoded: JSON (the default) or an HTML form, as provider webhooks
   * post. Either way the body parser has parsed it; the raw text stays on ctx.request.rawBody.
   */
  bodyType?: 'json' | 'form';
  /**
   * A body the handler streams itself (a file upload): documented under its media type,
   * never parsed or held by the body parser. Used instead of `body`.
   */
  streamedBody?: { mediaType: string; description: string };
  query?: Q;
  params?: P;
  /** Each answer; `mediaType` when it is not JSON (a CSV download). */
  responses: Record<number, { description: string; schema?: z.ZodType; mediaType?: string }>;
  /** Rules beyond the schemas; the document lists them (see UnstatedRule). */
  rules?: UnstatedRule[];
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

/**
 * Fields holding a NUL character (in a value or a key), which PostgreSQL cannot store in text: refused up
 * front (rule `no-nul-characters`) instead of failing at the database as a 500. The
 * walk is iterative, so a deeply nested body cannot exhaust the stack.
 */
export function nulCharacterErrors(value: unknown, location: FieldError['in']): FieldError[] {
  const errors: FieldError[] = [];
  const pending: Array<[unknown, string[]]> = [[value, []]];
  while (pending.length > 0 && errors.length < 20) {
    const [current, path] = pending.pop() as [unknown, string[]];
    if (typeof current === 'string') {
      if (current.includes('\u0000')) {
        const field = path.length > 0 ? path.join('.') : location;
        errors.push({ field, in: location, code: 'nul_character', message: `${field} must not contain a NUL character.` });
      }
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        // A key is text too (an attribute's name in a JSON object, say).
        if (key.includes('\u0000')) {
          const field = [...path, key.replaceAll('\u0000', '\\u0000')].join('.');
          errors.push({ field, in: location, code: 'nul_character', message: `${field} must not have a NUL character in its name.` });
        } else pending.push([child, [...path, key]]);
      }
    }
  }
  return errors;
}

function validate(spec: RouteSpec): Middleware<AppState> {
  return async (ctx, next) => {
    if (spec.body && ctx.request.length && !ctx.is(mediaType(spec))) throw problems.unsupportedMediaType(mediaType(spec));
    if (spec.streamedBody) {
      // A streamed body is stored and hashed as sent: it must be the documented type, and an
      // encoded (compressed) one would be neither. Checked first, like a parsed body's type.
      const hasBody = Boolean(ctx.request.length) || ctx.get('transfer-encoding') !== '';
      if (hasBody && !ctx.is(spec.streamedBody.mediaType, 'text/plain')) throw problems.unsupportedMediaType(spec.streamedBody.mediaType);
      if (!['', 'identity'].includes(ctx.get('content-encoding').trim().toLowerCase())) throw problems.unsupportedMediaType(`${spec.streamedBody.mediaType}, with no Content-Encoding`);
    }
    const nul = [...nulCharacterErrors(ctx.query, 'query'), ...(spec.body ? nulCharacterErrors((ctx.request as { body?: unknown }).body, 'body') : [])];
    if (nul.length > 0) throw problems.validation(nul);
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
          : [{ bearerAuth: spec.access === 'user' ? [] : [spec.access] }, ...(spec.cookie ? [{ codecCookie: [spec.access] }] : [])];
  const headers = spec.idempotency
    ? [z.string().min(1).max(255).meta({ param: { name: 'Idempotency-Key', in: 'header', required: spec.idempotency === 'required' } })]
    : undefined;
  const rules = spec.rules ?? [];
  const config: RouteConfig = {
    method: spec.method,
    path: toOpenApiPath(spec.path),
    summary: spec.summary,
    ...(rules.length > 0
      ? {
          description: `Rules beyond the schema:\n${rules.map((r) => `- \`${r.rule}\` (${r.in} \`${r.field}\`, code \`${r.code}\`): ${r.description}`).join('\n')}`,
          'x-finflow-unstated-rules': rules,
        }
      : {}),
    tags: spec.tags,
    security,
    request: {
      ...(spec.params ? { params: spec.params } : {}),
      ...(spec.query ? { query: spec.query } : {}),
      ...(headers ? { headers } : {}),
      ...(spec.body ? { body: { required: true, content: { [mediaType(spec)]: { schema: spec.body } } } } : {}),
      ...(spec.streamedBody
        ? { body: { required: true, description: spec.streamedBody.description, content: { [spec.streamedBody.mediaType]: { schema: z.string() } } } }
        : {}),
    },
    responses: Object.fromEntries(
      Object.entries(spec.responses).map(([status, r]) => [
        status,
        r.schema ? { description: r.description, content: { [r.mediaType ?? 'application/json']: { schema: r.schema } } } : { description: r.description },
      ]),
    ),
  };
  registry.registerPath(config);
}

export function mountRoute(router: Router<AppState>, app: AppContext, spec: RouteSpec): void {
  const chain: Middleware<AppState>[] = [authenticate(app, spec.access, spec.cookie), validate(spec)];
  if (spec.idempotency) chain.push(idempotent(app, { required: spec.idempotency === 'required', route: `${spec.method.toUpperCase()} ${spec.path}` }));
  chain.push(async (ctx) => {
    const input = ctx.state.input as RouteInput<unknown, unknown, unknown>;
    await spec.handler(ctx, input as never);
  });
  router[spec.method](spec.path, ...(chain as [Middleware<AppState>]));
}

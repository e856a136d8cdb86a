import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { registerOpenApi, type RouteSpec, type UnstatedRule } from './route';
import { RULES, nulCharactersRule } from './unstated-rules';

export const ProblemSchema = z
  .object({
    type: z.string().meta({ example: 'validation_error' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ field: z.string(), in: z.enum(['body', 'query', 'path', 'header']), code: z.string(), message: z.string() })),
  })
  .meta({ id: 'Problem' });

/** Problems every route can answer with, unless the route documents its own. */
function standardResponses(spec: RouteSpec): RouteSpec['responses'] {
  const responses: RouteSpec['responses'] = {
    400: { description: 'Invalid request: `errors[]` names each invalid field.', schema: ProblemSchema },
    503: { description: 'PostgreSQL or Temporal is unavailable.', schema: ProblemSchema },
  };
  if (spec.access !== 'public') responses[401] = { description: 'Missing or invalid credentials.', schema: ProblemSchema };
  if (spec.access === 'customer' || spec.access === 'operator' || spec.access === 'internal') responses[403] = { description: 'Wrong role.', schema: ProblemSchema };
  if (spec.idempotency) {
    responses[409] = { description: 'A request with this Idempotency-Key is still being processed (`idempotency_key_in_use`).', schema: ProblemSchema };
    responses[422] = { description: 'The Idempotency-Key was used with another body or route (`idempotency_key_reused`).', schema: ProblemSchema };
  }
  if (spec.body) {
    responses[413] = { description: 'The body exceeds BODY_LIMIT_BYTES.', schema: ProblemSchema };
    responses[415] = { description: 'The body is not in the media type the route takes.', schema: ProblemSchema };
  }
  return responses;
}

/** Rules every route of a kind enforces beyond its schemas. */
function standardRules(spec: RouteSpec): UnstatedRule[] {
  const rules: UnstatedRule[] = [];
  if (spec.query && 'cursor' in spec.query.shape) {
    rules.push({
      rule: 'issued-cursor',
      in: 'query',
      field: 'cursor',
      code: 'invalid_cursor',
      description: 'A cursor must be a `nextCursor` this API issued; any other string is refused.',
    });
  }
  if (spec.body && spec.bodyType !== 'form') rules.push(RULES.prototypeKeys);
  if (spec.body) rules.push(nulCharactersRule('body'));
  if (spec.query) rules.push(nulCharactersRule('query'));
  if (spec.idempotency) {
    rules.push({
      rule: 'idempotency-key-per-request',
      in: 'header',
      field: 'Idempotency-Key',
      code: 'reused',
      description: 'An Idempotency-Key names one request: sent again with another body or to another route, it is refused with 422.',
    });
  }
  return rules;
}

/** Builds the OpenAPI 3.1 document from the same route specs that validate requests. */
export function buildOpenApiDocument(routes: RouteSpec[], serverUrl?: string): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  registry.registerComponent('securitySchemes', 'codecCookie', {
    type: 'apiKey',
    in: 'cookie',
    name: 'finflow_codec',
    description: 'An operator access token set by the browser sign-in at /codec/login; only /codec routes read it.',
  });
  registry.registerComponent('securitySchemes', 'serviceToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Bank-side service token for /internal/v1.',
  });
  // No registry.register: that needs extendZodWithOpenApi. ProblemSchema's `.meta({ id })`
  // names the component, and every route references it through standardResponses.
  for (const spec of routes) {
    registerOpenApi(registry, {
      ...spec,
      responses: { ...standardResponses(spec), ...spec.responses },
      rules: [...standardRules(spec), ...(spec.rules ?? [])],
    });
  }
  const document = new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'finflow API',
      version: '1.0.0',
      description: 'Durable fintech backend on Temporal. Money is a string of integer minor units.',
    },
    servers: serverUrl ? [{ url: serverUrl }] : [],
  });
  documentProblemsAsProblemJson(document);
  return document;
}

const PROBLEM_REF = '#/components/schemas/Problem';

interface DocumentedResponse {
  content?: Record<string, { schema?: { $ref?: string } }>;
}

/**
 * Problems are answered as `application/problem+json` (see renderProblem), but route
 * specs describe every response under one media type. Every response whose body is the
 * Problem component, standard or declared by a route, is documented as what it is.
 */
function documentProblemsAsProblemJson(document: { paths?: object }): void {
  for (const item of Object.values(document.paths ?? {}) as Array<Record<string, { responses?: Record<string, DocumentedResponse> }>>) {
    for (const operation of Object.values(item)) {
      for (const response of Object.values(operation.responses ?? {})) {
        const json = response.content?.['application/json'];
        if (json?.schema?.$ref === PROBLEM_REF) response.content = { 'application/problem+json': json };
      }
    }
  }
}

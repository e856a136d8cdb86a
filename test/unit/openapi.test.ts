import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import pino from 'pino';
import { z } from 'zod';
import { allRoutes, createApp } from '../../src/api/app';
import type { AppContext } from '../../src/api/core/context';
import { buildOpenApiDocument, ProblemSchema } from '../../src/api/core/openapi';
import { route, type RouteSpec } from '../../src/api/core/route';
import { loadConfig } from '../../src/config';
import { request } from '../helpers/http';

/**
 * The OpenAPI document is generated from the route specs that validate requests. It is
 * built here with placeholder dependencies: building routes must not touch PostgreSQL
 * or Temporal, only handlers do.
 */

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
}

interface MediaType {
  schema?: { $ref?: string };
}

interface Operation {
  parameters?: Parameter[];
  security?: Array<Record<string, string[]>>;
  requestBody?: { content?: Record<string, MediaType> };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
}

interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, { type?: string; required?: string[]; properties?: Record<string, unknown> }> };
}

const PROBLEM_REF = '#/components/schemas/Problem';
const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
const label = (spec: Pick<RouteSpec, 'method' | 'path'>) => `${spec.method.toUpperCase()} ${spec.path}`;

const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
const logger = pino({ level: 'silent' });

function placeholderContext(): AppContext {
  return { config, deps: { db: undefined as never, temporal: undefined as never, logger, ledger: undefined as never, billers: undefined as never, notifier: undefined as never, now: () => new Date() } };
}

function operationOf(document: Document, spec: Pick<RouteSpec, 'method' | 'path'>): Operation | undefined {
  return document.paths[toOpenApiPath(spec.path)]?.[spec.method];
}

/** Every (path, method, operation) of a document. */
function operations(document: Document): Array<{ path: string; method: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item).map(([method, operation]) => ({ path, method, operation })),
  );
}

/** Names of problems in `spec`'s documented `status` that are not problem+json referencing Problem. */
function problemResponseIssue(operation: Operation | undefined, status: string): string | undefined {
  const response = operation?.responses[status];
  if (!response) return `no ${status} response`;
  const media = response.content?.['application/problem+json'];
  if (!media) return `${status} is not application/problem+json (has ${Object.keys(response.content ?? {}).join(', ') || 'no content'})`;
  if (media.schema?.$ref !== PROBLEM_REF) return `${status} schema is ${JSON.stringify(media.schema)}, not the Problem component`;
  return undefined;
}

async function validateOpenApi(document: object) {
  const validator = new Validator();
  const result = await validator.validate(document as Record<string, unknown>);
  return { ...result, version: validator.version };
}

describe('OpenAPI document', () => {
  const routes = allRoutes(placeholderContext());
  const document = buildOpenApiDocument(routes) as Document;

  it('validates as OpenAPI 3.1', async () => {
    const result = await validateOpenApi(document);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.equal(result.version, '3.1');
    assert.equal(document.openapi, '3.1.0');
  });

  it('has an operation for every route spec', () => {
    assert.ok(routes.length > 0);
    const missing = routes.filter((spec) => !operationOf(document, spec)).map(label);
    assert.deepEqual(missing, []);
  });

  it('has no operation without a route spec', () => {
    const declared = new Set(routes.map((spec) => `${spec.method} ${toOpenApiPath(spec.path)}`));
    const extra = operations(document)
      .map(({ method, path }) => `${method} ${path}`)
      .filter((key) => !declared.has(key));
    assert.deepEqual(extra, []);
  });

  it('documents a problem+json 400 on every operation', () => {
    const issues = routes.flatMap((spec) => {
      const issue = problemResponseIssue(operationOf(document, spec), '400');
      return issue ? [`${label(spec)}: ${issue}`] : [];
    });
    assert.deepEqual(issues, []);
  });

  it('documents a problem+json 401 on every non-public operation', () => {
    const guarded = routes.filter((spec) => spec.access !== 'public');
    assert.ok(guarded.length > 0);
    const issues = guarded.flatMap((spec) => {
      const issue = problemResponseIssue(operationOf(document, spec), '401');
      return issue ? [`${label(spec)}: ${issue}`] : [];
    });
    assert.deepEqual(issues, []);
  });

  it('documents a problem+json 403 on every customer and operator operation', () => {
    const roleBound = routes.filter((spec) => spec.access === 'customer' || spec.access === 'operator');
    assert.ok(roleBound.length > 0);
    const issues = roleBound.flatMap((spec) => {
      const issue = problemResponseIssue(operationOf(document, spec), '403');
      return issue ? [`${label(spec)}: ${issue}`] : [];
    });
    assert.deepEqual(issues, []);
  });

  it("documents each operation's credential and role in its security requirement", () => {
    // Written out by hand, one route of each kind of caller, rather than derived from the
    // same access table the document is built from.
    const cases: Array<[RouteSpec['method'], string, unknown]> = [
      ['get', '/health', []],
      ['post', '/v1/auth/login', []],
      ['get', '/v1/me', [{ bearerAuth: [] }]],
      ['get', '/v1/accounts', [{ bearerAuth: ['customer'] }]],
      ['post', '/v1/payments', [{ bearerAuth: ['customer'] }]],
      ['get', '/v1/operator/notifications', [{ bearerAuth: ['operator'] }]],
      ['post', '/codec/decode', [{ bearerAuth: ['operator'] }, { codecCookie: ['operator'] }]],
      ['post', '/internal/v1/accounts/:accountId/postings', [{ serviceToken: [] }]],
      ['post', '/internal/v1/payments/:id/resolve', [{ serviceToken: [] }]],
      ['get', '/internal/v1/audit', [{ serviceToken: [] }, { bearerAuth: ['operator'] }]],
      ['get', '/internal/v1/ledger/trial-balance', [{ serviceToken: [] }, { bearerAuth: ['operator'] }]],
    ];
    for (const [method, path, security] of cases) assert.deepEqual(operationOf(document, { method, path })?.security, security, `${method.toUpperCase()} ${path}`);
  });

  it('lists every path parameter of every path in its parameters, as required', () => {
    const issues = operations(document).flatMap(({ path, method, operation }) => {
      const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      return names.flatMap((name) => {
        const parameter = operation.parameters?.find((p) => p.in === 'path' && p.name === name);
        if (!parameter) return [`${method.toUpperCase()} ${path}: {${name}} is not in parameters`];
        return parameter.required === true ? [] : [`${method.toUpperCase()} ${path}: {${name}} is not required`];
      });
    });
    assert.deepEqual(issues, []);
  });

  it('documents no path parameter that is not in the path', () => {
    const issues = operations(document).flatMap(({ path, method, operation }) =>
      (operation.parameters ?? [])
        .filter((p) => p.in === 'path' && !path.includes(`{${p.name}}`))
        .map((p) => `${method.toUpperCase()} ${path}: ${p.name}`),
    );
    assert.deepEqual(issues, []);
  });

  it('describes every request body with a schema, as JSON (or a form, for provider callbacks; CSV, for partner card files)', () => {
    const issues = operations(document).flatMap(({ path, method, operation }) => {
      if (!operation.requestBody) return [];
      const types = Object.entries(operation.requestBody.content ?? {});
      const described = types.length === 1 && types.every(([type, media]) => /^(application\/(json|x-www-form-urlencoded)|text\/csv)$/.test(type) && media.schema);
      return described ? [] : [`${method.toUpperCase()} ${path}: ${JSON.stringify(operation.requestBody.content)}`];
    });
    assert.deepEqual(issues, []);
  });

  it('has a Problem component with the RFC 9457 members and errors[]', () => {
    const problem = document.components.schemas.Problem;
    assert.ok(problem, 'no Problem component');
    for (const member of ['type', 'title', 'status', 'detail', 'errors']) {
      assert.ok(problem.required?.includes(member), `Problem does not require ${member}`);
    }
  });

  it('has a User component', () => {
    const user = document.components.schemas.User;
    assert.ok(user, 'no User component');
    assert.deepEqual([...(user.required ?? [])].sort(), ['createdAt', 'dateOfBirth', 'email', 'emailVerified', 'id', 'name', 'phone', 'phoneVerified', 'referralCode', 'role', 'timezone']);
  });

  describe('built from a route declared here', () => {
    const Thing = z.object({ name: z.string() }).meta({ id: 'ContractThing' });
    const specs: RouteSpec[] = [
      route({
        method: 'post',
        path: '/v1/things/:thingId/parts/:partId',
        summary: 'A route with two path parameters and a body.',
        tags: ['test'],
        access: 'operator',
        idempotency: 'required',
        params: z.object({ thingId: z.uuid(), partId: z.uuid() }),
        body: Thing,
        responses: {
          201: { description: 'Created.', schema: Thing },
          409: { description: 'Conflict.', schema: ProblemSchema },
        },
        handler: async () => undefined,
      }),
    ];
    const built = buildOpenApiDocument(specs) as Document;
    const operation = built.paths['/v1/things/{thingId}/parts/{partId}']?.post;

    it('validates as OpenAPI 3.1', async () => {
      const result = await validateOpenApi(built);
      assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    });

    it('documents each path parameter as required, in the path', () => {
      const path = (operation?.parameters ?? []).filter((p) => p.in === 'path').map((p) => [p.name, p.required]);
      assert.deepEqual(path, [
        ['thingId', true],
        ['partId', true],
      ]);
    });

    it('documents a required Idempotency-Key header', () => {
      const header = operation?.parameters?.find((p) => p.in === 'header' && p.name === 'Idempotency-Key');
      assert.equal(header?.required, true);
    });

    it("documents the route's own problem responses as problem+json", () => {
      assert.equal(problemResponseIssue(operation, '409'), undefined);
    });

    it('keeps success responses as application/json', () => {
      assert.deepEqual(Object.keys(operation?.responses['201']?.content ?? {}), ['application/json']);
    });

    it('adds the standard 400, 401 and 403 problems', () => {
      assert.deepEqual(
        ['400', '401', '403'].map((status) => problemResponseIssue(operation, status)),
        [undefined, undefined, undefined],
      );
    });
  });
});

describe('OpenAPI document and docs, served', () => {
  let server: Server;
  let baseUrl: string;

  before(async () => {
    const { deps } = placeholderContext();
    server = createApp(config, deps).listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('serves GET /openapi.json as JSON, equal to the document built from allRoutes', async () => {
    const res = await request(baseUrl, 'GET', '/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const expected = JSON.parse(JSON.stringify(buildOpenApiDocument(allRoutes(placeholderContext()), config.http.publicUrl)));
    assert.deepEqual(res.body, expected);
  });

  it('serves a served document that validates as OpenAPI 3.1', async () => {
    const res = await request(baseUrl, 'GET', '/openapi.json');
    const result = await validateOpenApi(res.body);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
  });

  it('serves GET /docs as HTML that loads the local Swagger UI bundle', async () => {
    const res = await request<string>(baseUrl, 'GET', '/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.body, /<script src="\/docs\/swagger-ui-bundle\.js"><\/script>/);
  });

  it('references no absolute or protocol-relative URL (no CDN) in the docs page', async () => {
    const res = await request<string>(baseUrl, 'GET', '/docs');
    assert.equal(res.status, 200);
    assert.doesNotMatch(res.body, /https?:\/\/|["'(]\/\//i);
  });

  it('serves /docs/swagger-ui-bundle.js as JavaScript', async () => {
    const res = await request<string>(baseUrl, 'GET', '/docs/swagger-ui-bundle.js');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^(application|text)\/javascript/);
    assert.match(res.body, /SwaggerUIBundle/);
  });

  it('serves every asset the docs page references', async () => {
    const page = await request<string>(baseUrl, 'GET', '/docs');
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] as string);
    assert.ok(assets.length >= 2, `found ${assets.join(', ')}`);
    const statuses = await Promise.all(assets.map(async (asset) => [asset, (await request(baseUrl, 'GET', asset)).status]));
    assert.deepEqual(
      statuses.filter(([, status]) => status !== 200),
      [],
    );
  });

  it('answers an unknown docs asset with a problem+json 404', async () => {
    const res = await request(baseUrl, 'GET', '/docs/package.json');
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request, type HttpResponse, type RequestOptions } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { createOperator, signUpAndLogin, type SignedIn } from '../helpers/users';

/**
 * A contract sweep driven by the live /openapi.json: every documented operation is
 * probed with bad input and bad credentials, so routes added later are covered with
 * no change here. Each `it` is one rule checked across every operation it applies to;
 * a failure lists every operation and case that broke it.
 *
 * Requests that carry valid credentials always fail validation (or authentication)
 * before any handler runs, so the sweep has no side effects.
 */

interface Schema {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
}

interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  security?: Array<Record<string, string[]>>;
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses: Record<string, unknown>;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

type Credential = 'none' | 'customer' | 'operator' | 'service';

interface Op {
  label: string;
  method: string;
  /** The OpenAPI path, `{id}` style. */
  path: string;
  operation: Operation;
  credential: Credential;
  /** The role a bearer token must have, when one is required. */
  role?: 'customer' | 'operator';
  /** The service token is one of the accepted credentials. */
  acceptsService: boolean;
  bodySchema?: Schema;
  /** The media type the request body is documented in (JSON, or a form for provider webhooks). */
  bodyMediaType?: string;
  idempotencyKeyRequired: boolean;
}

interface ProblemBody {
  type?: unknown;
  title?: unknown;
  status?: unknown;
  detail?: unknown;
  errors?: Array<{ field?: unknown; in?: unknown }>;
}

const HTTP_METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** fetch refuses TRACE, so it goes out through node:http. */
function traceRequest(baseUrl: string, path: string): Promise<HttpResponse<ProblemBody>> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}${path}`, { method: 'TRACE' }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') headers.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers, body: (/json/.test(headers.get('content-type') ?? '') ? JSON.parse(text) : text) as ProblemBody });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

describe('API contract sweep (e2e)', function () {
  let s: Stack;
  let document: OpenApiDocument;
  let ops: Op[];
  let customer: SignedIn;
  let operator: SignedIn;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    const res = await request<OpenApiDocument>(s.baseUrl, 'GET', '/openapi.json');
    assert.equal(res.status, 200, 'GET /openapi.json');
    document = res.body;
    ops = operationsOf(document);
    customer = await signUpAndLogin(s.baseUrl);
    operator = await createOperator(s.baseUrl, s.db);
  });

  // --- reading the document -------------------------------------------------------

  function resolve(schema: Schema | undefined): Schema {
    let current = schema ?? {};
    for (let depth = 0; current.$ref && depth < 20; depth++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      current = document.components?.schemas?.[name] ?? {};
    }
    return current;
  }

  /**
   * Properties and required fields of an object schema: merged over allOf; over a union,
   * only what every variant has, since a field of one variant is not checked without the others.
   */
  function objectShape(schema: Schema | undefined): { properties: Record<string, Schema>; required: string[] } | undefined {
    const s = resolve(schema);
    if (s.allOf) {
      const parts = s.allOf.map(objectShape);
      if (parts.some((p) => !p)) return undefined;
      return {
        properties: Object.assign({}, ...parts.map((p) => p!.properties)),
        required: [...new Set(parts.flatMap((p) => p!.required))],
      };
    }
    const variants = s.anyOf ?? s.oneOf;
    if (variants) {
      const parts = variants.map(objectShape);
      if (parts.length === 0 || parts.some((p) => !p)) return undefined;
      const inEvery = (field: string) => parts.every((p) => field in p!.properties);
      return {
        properties: Object.fromEntries(Object.entries(parts[0]!.properties).filter(([field]) => inEvery(field))),
        required: parts.reduce<string[]>((common, p) => common.filter((f) => p!.required.includes(f)), parts[0]!.required),
      };
    }
    const types = Array.isArray(s.type) ? s.type : [s.type];
    if (types.includes('object') || s.properties) return { properties: s.properties ?? {}, required: s.required ?? [] };
    return undefined;
  }

  /** The JSON type a schema accepts, when it accepts exactly one. */
  function jsonType(schema: Schema | undefined): string | undefined {
    const s = resolve(schema);
    if (typeof s.type === 'string') return s.type;
    if (Array.isArray(s.type)) {
      const types = s.type.filter((t) => t !== 'null');
      return types.length === 1 ? types[0] : undefined;
    }
    if (s.const !== undefined) return typeof s.const;
    if (s.enum && s.enum.length > 0) {
      const types = new Set(s.enum.map((v) => (v === null ? 'null' : typeof v)));
      return types.size === 1 ? [...types][0] : undefined;
    }
    const variants = s.anyOf ?? s.oneOf ?? s.allOf;
    if (variants) {
      const types = new Set(variants.map(jsonType));
      return types.size === 1 ? [...types][0] : undefined;
    }
    return undefined;
  }

  /** A value of the wrong JSON type for a field of `type`. */
  function wrongValue(type: string | undefined): unknown {
    if (type === 'string') return 123;
    if (type === 'number' || type === 'integer' || type === 'object' || type === 'boolean' || type === 'array') return 'x';
    return undefined;
  }

  function bodyOf(operation: Operation): Pick<Op, 'bodySchema' | 'bodyMediaType'> {
    const content = operation.requestBody?.content;
    if (!content) return {};
    const bodyMediaType = content[JSON_TYPE] ? JSON_TYPE : (Object.keys(content)[0] ?? JSON_TYPE);
    return { bodyMediaType, bodySchema: content[bodyMediaType]?.schema ?? {} };
  }

  function operationsOf(doc: OpenApiDocument): Op[] {
    return Object.entries(doc.paths).flatMap(([path, item]) =>
      HTTP_METHODS.filter((method) => item[method]).map((method) => {
        const operation = item[method]!;
        // Requirements are alternatives; a bearer one names the role it needs, if any.
        const requirements = operation.security ?? [];
        const acceptsService = requirements.some((r) => 'serviceToken' in r);
        const roles = requirements.find((r) => 'bearerAuth' in r)?.bearerAuth;
        let credential: Credential = acceptsService ? 'service' : 'none';
        let role: Op['role'];
        if (roles) {
          role = roles.length === 1 && (roles[0] === 'operator' || roles[0] === 'customer') ? roles[0] : undefined;
          credential = role === 'operator' ? 'operator' : 'customer';
        }
        const idempotencyKeyRequired = (operation.parameters ?? []).some(
          (p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key' && p.required === true,
        );
        return {
          label: `${method.toUpperCase()} ${path}`,
          method: method.toUpperCase(),
          path,
          operation,
          credential,
          ...(role ? { role } : {}),
          acceptsService,
          ...bodyOf(operation),
          idempotencyKeyRequired,
        };
      }),
    );
  }

  // --- sending requests -----------------------------------------------------------

  function tokenFor(credential: Credential): string | undefined {
    if (credential === 'customer') return customer.accessToken;
    if (credential === 'operator') return operator.accessToken;
    if (credential === 'service') return s.config.auth.serviceToken;
    return undefined;
  }

  /** The path with every `{param}` filled: a random UUID unless `pathParams` says otherwise. */
  function concretePath(op: Op, pathParams: Record<string, string> = {}, query = ''): string {
    const path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => encodeURIComponent(pathParams[name] ?? randomUUID()));
    return query ? `${path}?${query}` : path;
  }

  interface Probe extends RequestOptions {
    /** Which credential to present; the operation's own by default. */
    as?: Credential;
    /** An Authorization header to send as-is instead. */
    authorization?: string;
    pathParams?: Record<string, string>;
    query?: string;
  }

  function send(op: Op, probe: Probe = {}): Promise<HttpResponse<ProblemBody>> {
    const headers: Record<string, string> = { ...probe.headers };
    if (op.idempotencyKeyRequired) headers['idempotency-key'] = randomUUID();
    if (probe.authorization !== undefined) headers.authorization = probe.authorization;
    const token = probe.authorization === undefined ? tokenFor(probe.as ?? op.credential) : undefined;
    return request<ProblemBody>(s.baseUrl, op.method, concretePath(op, probe.pathParams, probe.query), {
      ...(token ? { token } : {}),
      ...(probe.body !== undefined ? { body: probe.body } : {}),
      ...(probe.rawBody !== undefined ? { rawBody: probe.rawBody } : {}),
      headers,
    });
  }

  // --- judging responses ----------------------------------------------------------

  const summary = (res: HttpResponse<ProblemBody>) =>
    `${res.status} ${typeof res.body === 'object' ? JSON.stringify({ type: res.body?.type, detail: res.body?.detail, errors: res.body?.errors }) : String(res.body).slice(0, 200)}`;

  /** What is wrong with `res` as a problem+json answer with one of `statuses` (and `type`, when given). */
  function problemIssues(res: HttpResponse<ProblemBody>, statuses: number[], type?: string): string[] {
    const issues: string[] = [];
    if (res.status >= 500) issues.push(`answered ${summary(res)}`);
    else if (!statuses.includes(res.status)) issues.push(`expected ${statuses.join(' or ')}, got ${summary(res)}`);
    if (!/^application\/problem\+json/.test(res.headers.get('content-type') ?? '')) {
      issues.push(`content-type ${res.headers.get('content-type')}`);
      return issues;
    }
    const body = res.body;
    if (type !== undefined && body.type !== type) issues.push(`type ${String(body.type)}, expected ${type}`);
    if (typeof body.type !== 'string' || body.type === '') issues.push('no type');
    if (typeof body.title !== 'string' || body.title === '') issues.push('no title');
    if (body.status !== res.status) issues.push(`body status ${String(body.status)} differs from ${res.status}`);
    if (typeof body.detail !== 'string' || body.detail === '') issues.push('no detail');
    if (!Array.isArray(body.errors)) issues.push('no errors[]');
    if (!res.headers.get('x-request-id')) issues.push('no X-Request-Id');
    return issues;
  }

  function namesField(res: HttpResponse<ProblemBody>, location: string, field: string): boolean {
    return (
      Array.isArray(res.body?.errors) &&
      res.body.errors.some((e) => e.in === location && typeof e.field === 'string' && (e.field === field || e.field.startsWith(`${field}.`)))
    );
  }

  /** Runs `check` on every op, gathering "<op> [case]: issue" lines; sequential, the machine is small. */
  async function sweep(subjects: Op[], check: (op: Op) => Promise<string[]>): Promise<string[]> {
    const failures: string[] = [];
    for (const op of subjects) {
      for (const issue of await check(op)) failures.push(`${op.label} ${issue}`);
    }
    return failures;
  }

  const tagged = (what: string, issues: string[]) => issues.map((issue) => `[${what}] ${issue}`);

  /** Skips an `it` whose rule applies to no documented operation yet, saying so. */
  function requireSubjects(ctx: Mocha.Context, subjects: unknown[], what: string): void {
    if (subjects.length === 0) {
      ctx.test!.title += ` (no operation ${what} yet)`;
      ctx.skip();
    }
  }

  const withBody = () => ops.filter((op) => op.bodySchema);
  const jsonBodies = () => withBody().filter((op) => op.bodyMediaType === JSON_TYPE);
  const objectBodies = () => jsonBodies().filter((op) => objectShape(op.bodySchema));
  const requiredFieldsOf = (op: Op) => objectShape(op.bodySchema)?.required ?? [];
  const guarded = () => ops.filter((op) => op.credential !== 'none');

  // --- the document itself --------------------------------------------------------

  describe('the live document', () => {
    it('lists operations, with and without bodies, and guarded ones', () => {
      assert.ok(ops.length >= 8, `only ${ops.length} operations`);
      assert.ok(withBody().length > 0);
      assert.ok(guarded().length > 0);
    });

    it('marks operator operations with the operator role', () => {
      assert.ok(
        ops.some((op) => op.role === 'operator' && op.path === '/v1/operator/notifications'),
        'GET /v1/operator/notifications is not documented as operator-only',
      );
    });
  });

  // --- request bodies -------------------------------------------------------------

  describe('request bodies', () => {
    it('answers malformed JSON with 400 malformed_json', async function () {
      requireSubjects(this, jsonBodies(), 'with a JSON body');
      const failures = await sweep(jsonBodies(), async (op) => problemIssues(await send(op, { rawBody: '{"a":' }), [400], 'malformed_json'));
      assert.deepEqual(failures, []);
    });

    for (const [what, rawBody] of [
      ['an array', '[]'],
      ['a string', '"text"'],
      ['a number', '42'],
      ['null', 'null'],
    ] as const) {
      it(`answers ${what} instead of an object with 400 validation_error`, async function () {
        requireSubjects(this, objectBodies(), 'with an object body');
        const failures = await sweep(objectBodies(), async (op) => problemIssues(await send(op, { rawBody }), [400], 'validation_error'));
        assert.deepEqual(failures, []);
      });
    }

    /** Sends `rawBody` as the op's own media type; checks for a 400 naming one of its required fields. */
    async function missingFieldIssues(op: Op, rawBody: string): Promise<string[]> {
      const required = requiredFieldsOf(op);
      const res = await send(op, { rawBody, headers: { 'content-type': op.bodyMediaType ?? JSON_TYPE } });
      const issues = problemIssues(res, [400], 'validation_error');
      if (res.status === 400 && !required.some((field) => namesField(res, 'body', field))) {
        issues.push(`errors name none of ${required.join(', ')}: ${JSON.stringify(res.body.errors)}`);
      }
      return issues;
    }

    it('answers an empty object with 400 naming a required field', async function () {
      const subjects = objectBodies().filter((op) => requiredFieldsOf(op).length > 0);
      requireSubjects(this, subjects, 'with required JSON body fields');
      const failures = await sweep(subjects, (op) => missingFieldIssues(op, '{}'));
      assert.deepEqual(failures, []);
    });

    it('answers an empty JSON body like an empty object: 400 naming a required field', async function () {
      const subjects = objectBodies().filter((op) => requiredFieldsOf(op).length > 0);
      requireSubjects(this, subjects, 'with required JSON body fields');
      const failures = await sweep(subjects, (op) => missingFieldIssues(op, ''));
      assert.deepEqual(failures, []);
    });

    it('answers an empty form with 400 naming a required field', async function () {
      const subjects = withBody().filter((op) => op.bodyMediaType === FORM_TYPE && requiredFieldsOf(op).length > 0);
      requireSubjects(this, subjects, 'with required form fields');
      const failures = await sweep(subjects, (op) => missingFieldIssues(op, ''));
      assert.deepEqual(failures, []);
    });

    it('answers each documented field sent with the wrong JSON type with 400 naming that field', async function () {
      const subjects = objectBodies().filter((op) => Object.keys(objectShape(op.bodySchema)!.properties).length > 0);
      requireSubjects(this, subjects, 'with body fields');
      let probed = 0;
      const failures = await sweep(subjects, async (op) => {
        const { properties } = objectShape(op.bodySchema)!;
        const issues: string[] = [];
        for (const [field, schema] of Object.entries(properties)) {
          const value = wrongValue(jsonType(schema));
          if (value === undefined) continue;
          probed += 1;
          const res = await send(op, { body: { [field]: value } });
          const found = problemIssues(res, [400], 'validation_error');
          if (res.status === 400 && !namesField(res, 'body', field)) found.push(`errors do not name ${field}: ${JSON.stringify(res.body.errors)}`);
          issues.push(...tagged(`${field}=${JSON.stringify(value)}`, found));
        }
        return issues;
      });
      assert.ok(probed > 0, 'no field had a derivable type');
      assert.deepEqual(failures, []);
    });

    it('answers a body over BODY_LIMIT_BYTES with 413 payload_too_large', async function () {
      requireSubjects(this, withBody(), 'with a request body');
      const limit = s.config.http.bodyLimitBytes;
      const json = JSON.stringify({ padding: 'x'.repeat(limit) });
      const form = `padding=${'x'.repeat(limit)}`;
      assert.ok(Buffer.byteLength(json) > limit && Buffer.byteLength(form) > limit);
      // A streamed file upload (text/csv, partner card files) has its own cap, CARD_FILE_MAX_BYTES, tested in cards.test.ts.
      const failures = await sweep(withBody().filter((op) => op.bodyMediaType !== 'text/csv'), async (op) => {
        const rawBody = op.bodyMediaType === FORM_TYPE ? form : json;
        return problemIssues(await send(op, { rawBody, headers: { 'content-type': op.bodyMediaType ?? JSON_TYPE } }), [413], 'payload_too_large');
      });
      assert.deepEqual(failures, []);
    });

    it('answers a text/plain body with a 415 or 400 problem', async function () {
      requireSubjects(this, withBody(), 'with a request body');
      const failures = await sweep(withBody(), async (op) =>
        problemIssues(await send(op, { rawBody: '{"a":1}', headers: { 'content-type': 'text/plain' } }), [415, 400]),
      );
      assert.deepEqual(failures, []);
    });

    it('answers a form-encoded body where JSON is documented with a 415 or 400 problem', async function () {
      requireSubjects(this, jsonBodies(), 'with a JSON body');
      const failures = await sweep(jsonBodies(), async (op) =>
        problemIssues(await send(op, { rawBody: 'a=1&b=2', headers: { 'content-type': FORM_TYPE } }), [415, 400]),
      );
      assert.deepEqual(failures, []);
    });

    it('answers a JSON body where a form is documented with a 415 or 400 problem', async function () {
      const subjects = withBody().filter((op) => op.bodyMediaType === FORM_TYPE);
      requireSubjects(this, subjects, 'with a form body');
      const failures = await sweep(subjects, async (op) => problemIssues(await send(op, { rawBody: '{"a":1}' }), [415, 400]));
      assert.deepEqual(failures, []);
    });

    it('answers a body in an unsupported Content-Encoding with 415 unsupported_media_type', async function () {
      requireSubjects(this, withBody(), 'with a request body');
      const failures = await sweep(withBody(), async (op) =>
        problemIssues(
          await send(op, { rawBody: '{}', headers: { 'content-type': op.bodyMediaType ?? JSON_TYPE, 'content-encoding': 'x-unknown' } }),
          [415],
          'unsupported_media_type',
        ),
      );
      assert.deepEqual(failures, []);
    });
  });

  // --- parameters -----------------------------------------------------------------

  describe('parameters', () => {
    const paramsOf = (op: Op, location: Parameter['in']) => (op.operation.parameters ?? []).filter((p) => p.in === location);

    it('answers a missing required query parameter with 400 naming it', async function () {
      const subjects = ops.filter((op) => paramsOf(op, 'query').some((p) => p.required));
      requireSubjects(this, subjects, 'with a required query parameter');
      const failures = await sweep(subjects, async (op) => {
        const res = await send(op);
        const issues = problemIssues(res, [400], 'validation_error');
        for (const p of paramsOf(op, 'query').filter((q) => q.required)) {
          if (!namesField(res, 'query', p.name)) issues.push(`errors do not name ${p.name}`);
        }
        return issues;
      });
      assert.deepEqual(failures, []);
    });

    /** A query value the parameter's schema must refuse, or undefined when none is derivable. */
    function badQueryValue(p: Parameter): string | undefined {
      const schema = resolve(p.schema);
      const type = jsonType(schema);
      if (type === 'integer' || type === 'number') return 'not-a-number';
      if (type === 'boolean') return 'not-a-boolean';
      if (schema.enum) return 'not-a-member-of-the-enum';
      if (schema.format === 'uuid') return 'not-a-uuid';
      if (schema.format === 'date' || schema.format === 'date-time') return 'not-a-date';
      return undefined;
    }

    it('answers an ill-typed query parameter with 400 naming it', async function () {
      const subjects = ops.filter((op) => paramsOf(op, 'query').some((p) => badQueryValue(p) !== undefined));
      requireSubjects(this, subjects, 'with a typed query parameter');
      const failures = await sweep(subjects, async (op) => {
        const issues: string[] = [];
        for (const p of paramsOf(op, 'query')) {
          const value = badQueryValue(p);
          if (value === undefined) continue;
          const res = await send(op, { query: new URLSearchParams({ [p.name]: value }).toString() });
          const found = problemIssues(res, [400], 'validation_error');
          if (res.status === 400 && !namesField(res, 'query', p.name)) found.push(`errors do not name ${p.name}: ${JSON.stringify(res.body.errors)}`);
          issues.push(...tagged(`${p.name}=${value}`, found));
        }
        return issues;
      });
      assert.deepEqual(failures, []);
    });

    it('answers a path parameter that is not a UUID with 400 naming it', async function () {
      const subjects = ops.filter((op) => paramsOf(op, 'path').some((p) => resolve(p.schema).format === 'uuid'));
      requireSubjects(this, subjects, 'with a UUID path parameter');
      const failures = await sweep(subjects, async (op) => {
        const issues: string[] = [];
        for (const p of paramsOf(op, 'path').filter((q) => resolve(q.schema).format === 'uuid')) {
          const res = await send(op, { pathParams: { [p.name]: 'not-a-uuid' } });
          const found = problemIssues(res, [400], 'validation_error');
          if (res.status === 400 && !namesField(res, 'path', p.name)) found.push(`errors do not name ${p.name}: ${JSON.stringify(res.body.errors)}`);
          issues.push(...tagged(p.name, found));
        }
        return issues;
      });
      assert.deepEqual(failures, []);
    });
  });

  // Who may call each route is checked from a hand-written table in route-access.test.ts,
  // not from this document.

  // --- routing --------------------------------------------------------------------

  describe('routing', () => {
    it('answers an unknown route with 404 problem+json', async () => {
      const res = await request<ProblemBody>(s.baseUrl, 'GET', `/v1/no-such-route-${randomUUID()}`);
      assert.deepEqual(problemIssues(res, [404], 'not_found'), []);
    });

    it('answers an unknown route under a known prefix with 404 problem+json', async () => {
      const res = await request<ProblemBody>(s.baseUrl, 'POST', '/v1/auth/no-such-thing', { body: {} });
      assert.deepEqual(problemIssues(res, [404], 'not_found'), []);
    });

    it('answers a wrong method on every documented path with 405 and an Allow listing its methods', async () => {
      const failures: string[] = [];
      for (const [path, item] of Object.entries(document.paths)) {
        const documented = HTTP_METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
        const wrong = ['PATCH', 'PUT', 'DELETE', 'POST', 'GET'].find((m) => !documented.includes(m));
        if (!wrong) continue;
        const concrete = path.replace(/\{[^}]+\}/g, () => randomUUID());
        const res = await request<ProblemBody>(s.baseUrl, wrong, concrete);
        const issues = problemIssues(res, [405], 'method_not_allowed');
        const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase());
        const missing = documented.filter((m) => !allow.includes(m));
        if (missing.length > 0) issues.push(`Allow "${res.headers.get('allow')}" lacks ${missing.join(', ')}`);
        failures.push(...issues.map((issue) => `${wrong} ${path} ${issue}`));
      }
      assert.deepEqual(failures, []);
    });

    it('answers TRACE on every documented path with 405 problem+json and an Allow listing its methods', async () => {
      const failures: string[] = [];
      for (const [path, item] of Object.entries(document.paths)) {
        const documented = HTTP_METHODS.filter((m) => item[m]).map((m) => m.toUpperCase());
        const res = await traceRequest(s.baseUrl, path.replace(/\{[^}]+\}/g, () => randomUUID()));
        const issues = problemIssues(res, [405], 'method_not_allowed');
        const allow = (res.headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase());
        const missing = documented.filter((m) => !allow.includes(m));
        if (missing.length > 0) issues.push(`Allow "${res.headers.get('allow')}" lacks ${missing.join(', ')}`);
        failures.push(...issues.map((issue) => `TRACE ${path} ${issue}`));
      }
      assert.deepEqual(failures, []);
    });

    it('answers a method only a less specific route declares with 405, not that route', async () => {
      // GET /v1/payments/quote would match GET /v1/payments/:id; the quote resource takes only POST.
      const res = await request<ProblemBody>(s.baseUrl, 'GET', '/v1/payments/quote', { token: customer.accessToken });
      assert.deepEqual({ status: res.status, allow: res.headers.get('allow') }, { status: 405, allow: 'POST, OPTIONS' });
    });
  });

  // --- headers on every response --------------------------------------------------

  describe('response headers', () => {
    it('gives every response an X-Request-Id', async () => {
      const responses = await Promise.all([
        request(s.baseUrl, 'GET', '/health'),
        request(s.baseUrl, 'GET', '/openapi.json'),
        request(s.baseUrl, 'GET', '/v1/me'),
        request(s.baseUrl, 'GET', '/v1/nowhere'),
        request(s.baseUrl, 'POST', '/v1/auth/login', { rawBody: '{"a":' }),
      ]);
      assert.deepEqual(
        responses.map((r) => /^[0-9a-f-]{36}$/.test(r.headers.get('x-request-id') ?? '')),
        responses.map(() => true),
      );
    });

    it('gives each request its own X-Request-Id', async () => {
      const [a, b] = await Promise.all([request(s.baseUrl, 'GET', '/health'), request(s.baseUrl, 'GET', '/health')]);
      assert.notEqual(a.headers.get('x-request-id'), b.headers.get('x-request-id'));
    });

    it('echoes a sane incoming X-Request-Id, also on problems and in the problem body', async () => {
      const id = `contract-${randomUUID()}`;
      const res = await request<ProblemBody & { requestId?: string }>(s.baseUrl, 'GET', '/v1/me', { headers: { 'x-request-id': id } });
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-request-id'), id);
      assert.equal(res.body.requestId, id);
    });

    it('replaces an unsafe incoming X-Request-Id', async () => {
      const unsafe = 'evil id <script>';
      const res = await request(s.baseUrl, 'GET', '/health', { headers: { 'x-request-id': unsafe } });
      assert.notEqual(res.headers.get('x-request-id'), unsafe);
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });

    it('replaces an overlong incoming X-Request-Id', async () => {
      const res = await request(s.baseUrl, 'GET', '/health', { headers: { 'x-request-id': 'a'.repeat(129) } });
      assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    });

    it('sends security headers on successes and problems alike', async () => {
      const responses = await Promise.all([
        request(s.baseUrl, 'GET', '/health'),
        request(s.baseUrl, 'GET', '/v1/me'),
        request(s.baseUrl, 'POST', '/v1/auth/login', { rawBody: '{"a":' }),
        request(s.baseUrl, 'GET', '/v1/nowhere'),
      ]);
      const headers = responses.map((r) => ({
        nosniff: r.headers.get('x-content-type-options'),
        csp: /default-src 'self'/.test(r.headers.get('content-security-policy') ?? ''),
        frames: /frame-ancestors 'self'|frame-ancestors 'none'/.test(r.headers.get('content-security-policy') ?? ''),
      }));
      assert.deepEqual(
        headers,
        responses.map(() => ({ nosniff: 'nosniff', csp: true, frames: true })),
      );
    });

    it('does not advertise the framework', async () => {
      const res = await request(s.baseUrl, 'GET', '/health');
      assert.equal(res.headers.get('x-powered-by'), null);
    });
  });

  describe('CORS', () => {
    it('sends no Access-Control-Allow-Origin to an unlisted origin', async () => {
      const res = await request(s.baseUrl, 'GET', '/health', { headers: { origin: 'https://evil.example' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
    });

    it('grants no preflight to an unlisted origin', async () => {
      const res = await request(s.baseUrl, 'OPTIONS', '/v1/auth/login', {
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-methods'), null);
    });
  });
});

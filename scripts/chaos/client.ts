import { randomUUID } from 'node:crypto';

/**
 * The chaos run's HTTP client, as a careful API client would be written: it spreads
 * requests over the API processes, and a request whose answer it did not get (a timeout,
 * a refused or reset connection), a 5xx or a 409 `idempotency_key_in_use` is sent again
 * with the same Idempotency-Key, to another process, until it gets an answer or gives up.
 * Each request ends as what the client finally saw: `succeeded` (2xx), `failed` (4xx) or
 * `unknown` (no answer before its deadline).
 */

export type Outcome = 'succeeded' | 'failed' | 'unknown';

export interface Answer<T = unknown> {
  outcome: Outcome;
  status: number | null;
  body: T;
  /** How many times it was sent. */
  attempts: number;
  /** From the first send to the final answer. */
  latencyMs: number;
}

export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** The route's template, for per-route figures: `/v1/accounts/:id/payments`. */
  route: string;
  token?: string;
  body?: unknown;
  /** A body sent as it is (a partner's CSV file), instead of `body` as JSON. */
  rawBody?: { contentType: string; data: string };
  /** Sent on every attempt; a money-moving POST gets one of its own when not given. */
  idempotencyKey?: string;
}

export interface ClientOptions {
  baseUrls: string[];
  /** One attempt's deadline. */
  attemptTimeoutMs: number;
  /** The whole request's deadline, retries included. */
  deadlineMs: number;
  onAnswer?: (spec: RequestSpec, answer: Answer) => void;
}

const RETRY_DELAY_MS = 250;

function retryable(status: number, body: unknown): boolean {
  if (status >= 500) return true;
  return status === 409 && (body as { type?: string } | null)?.type === 'idempotency_key_in_use';
}

export class ChaosClient {
  private next = 0;

  constructor(private readonly options: ClientOptions) {}

  async send<T = unknown>(spec: RequestSpec): Promise<Answer<T>> {
    const key = spec.idempotencyKey ?? (spec.method === 'POST' ? randomUUID() : undefined);
    const started = Date.now();
    let attempts = 0;
    let last: { status: number | null; body: unknown } = { status: null, body: null };
    while (Date.now() - started < this.options.deadlineMs) {
      attempts += 1;
      const baseUrl = this.options.baseUrls[this.next++ % this.options.baseUrls.length] as string;
      try {
        const res = await fetch(`${baseUrl}${spec.path}`, {
          method: spec.method,
          headers: {
            ...(spec.token ? { authorization: `Bearer ${spec.token}` } : {}),
            ...(key ? { 'idempotency-key': key } : {}),
            ...(spec.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...(spec.rawBody ? { 'content-type': spec.rawBody.contentType } : {}),
          },
          body: spec.rawBody ? spec.rawBody.data : spec.body === undefined ? undefined : JSON.stringify(spec.body),
          signal: AbortSignal.timeout(this.options.attemptTimeoutMs),
        });
        const text = await res.text();
        const body: unknown = /json/.test(res.headers.get('content-type') ?? '') && text ? JSON.parse(text) : text;
        last = { status: res.status, body };
        if (!retryable(res.status, body)) return this.answer(spec, res.status < 400 ? 'succeeded' : 'failed', res.status, body, attempts, started);
      } catch {
        // No answer (timeout, refused, reset): whether it took effect is unknown, so it is sent again.
      }
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS * Math.min(attempts, 8)));
    }
    return this.answer(spec, 'unknown', last.status, last.body, attempts, started);
  }

  private answer<T>(spec: RequestSpec, outcome: Outcome, status: number | null, body: unknown, attempts: number, started: number): Answer<T> {
    const answer: Answer<T> = { outcome, status, body: body as T, attempts, latencyMs: Date.now() - started };
    this.options.onAnswer?.({ ...spec, body: undefined, rawBody: undefined }, answer);
    return answer;
  }
}

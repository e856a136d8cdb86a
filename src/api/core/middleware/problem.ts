import type { Middleware } from 'koa';
import { ServiceError, isGrpcServiceError } from '@temporalio/client';
import { ProblemError, problems } from '../errors';
import type { ParameterizedContext } from 'koa';
import type { AppState } from '../context';

const PG_UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/** Maps a thrown error to the problem it stands for; unknown errors become a 500. */
export function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  const e = err as { status?: number; type?: string; code?: string; name?: string; message?: string; cause?: unknown };
  // @koa/bodyparser (raw-body / co-body) errors.
  if (e.type === 'entity.too.large' || e.status === 413) return problems.payloadTooLarge(Number((err as { limit?: number }).limit ?? 0));
  if (e.type === 'entity.parse.failed' || (e.status === 400 && e.name === 'SyntaxError')) return problems.malformedJson();
  if (e.status === 415) return problems.unsupportedMediaType();
  if (isDatabaseUnavailable(err)) return problems.dependencyUnavailable('postgres');
  if (isTemporalUnavailable(err)) return problems.dependencyUnavailable('temporal');
  return problems.internal();
}

export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (!e) return false;
  if (e.name === 'KnexTimeoutError') return true;
  if (e.code && PG_UNAVAILABLE_CODES.has(e.code)) return true;
  return /Connection terminated|connect ECONNREFUSED|Connection ended unexpectedly/.test(e.message ?? '');
}

export function isTemporalUnavailable(err: unknown): boolean {
  const candidates = [err, (err as { cause?: unknown })?.cause];
  return candidates.some(
    (c) =>
      (isGrpcServiceError(c) && (c.code === GRPC_UNAVAILABLE || c.code === GRPC_DEADLINE_EXCEEDED)) ||
      (c instanceof ServiceError && /UNAVAILABLE|DEADLINE_EXCEEDED|deadline/i.test(c.message)),
  );
}

/** Renders every error as application/problem+json; only 5xx are logged as errors. */
export function problemMiddleware(): Middleware<AppState> {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw problems.notFound(`No route for ${ctx.method} ${ctx.path}.`);
      if (ctx.status === 405 && !ctx.body) throw problems.methodNotAllowed(ctx.response.get('Allow'));
    } catch (err) {
      const problem = toProblem(err);
      if (problem.status >= 500) ctx.state.log.error({ err }, 'request failed');
      renderProblem(ctx, problem);
    }
  };
}

export function renderProblem(ctx: ParameterizedContext<AppState>, problem: ProblemError): void {
  ctx.status = problem.status;
  ctx.set(problem.headers);
  ctx.type = 'application/problem+json';
  ctx.body = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: ctx.path,
    requestId: ctx.state.requestId,
    errors: problem.errors,
  };
}

import type { LedgerErrorCode } from './types';

/**
 * A business failure of the ledger: retrying the same call cannot change it. `code` is
 * stable, so the API maps it to a problem `type` and activities to a non-retryable
 * ApplicationFailure. Anything else the ledger throws is a technical failure.
 */
export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string = code,
  ) {
    super(message);
    this.name = 'LedgerError';
  }
}

export function isLedgerError(err: unknown, code?: LedgerErrorCode): err is LedgerError {
  return err instanceof LedgerError && (code === undefined || err.code === code);
}

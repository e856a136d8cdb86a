/** The ledger: every movement of money in finflow goes through `createLedger(db)`. */
export type * from './types';
export { createLedger } from './service';
export { LedgerError, isLedgerError } from './errors';
export { transferIdFrom, accountIdFrom } from './ids';
export { ensureSystemAccount } from './accounts';
export { MAX_TRANSFERS_PER_CALL } from './transfers';

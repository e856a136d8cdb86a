export * from './port';
export { getBiller, listBillers, cashbackGrantedInMonth } from './repository';
export { SANDBOX_SCRIPTS } from './sandbox';
// The adapters (sandbox, http) are constructed only by src/worker/deps.ts, from config.

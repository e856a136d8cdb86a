import type { Db } from '../../db/knex';
import type { BillerPort } from './port';
import { createSandboxBillerPort } from './sandbox';

export * from './port';
export { getBiller, listBillers, cashbackGrantedInMonth } from './repository';
export { createSandboxBillerPort, SANDBOX_SCRIPTS } from './sandbox';

/**
 * The biller port the API and the worker use. The sandbox is the only biller finflow
 * has today; a real integration would be chosen here from config.
 */
export function createBillerPort(db: Db): BillerPort {
  return createSandboxBillerPort(db);
}

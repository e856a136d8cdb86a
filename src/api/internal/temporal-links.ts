import type { Config } from '../../config';

/**
 * Links from operator views to the Temporal Web UI's workflow search for the same
 * business id (the search attributes of src/temporal/names.ts), so an operator goes
 * from a payment or a customer to every workflow that touched it in one click.
 */
export function temporalSearchUrl(config: Config, query: string): string {
  const ui = (config.temporal.uiUrl ?? `http://localhost:${config.temporal.uiPort}`).replace(/\/+$/, '');
  return `${ui}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows?query=${encodeURIComponent(query)}`;
}

export const paymentSearch = (config: Config, paymentId: string) => temporalSearchUrl(config, `PaymentId="${paymentId}"`);
export const customerSearch = (config: Config, userId: string) => temporalSearchUrl(config, `CustomerId="${userId}"`);

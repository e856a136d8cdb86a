import type { Db } from '../../db/knex';
import { BillerUnavailableError, matchesReferenceFormat, type Biller, type BillerPort, type CustomerValidation } from '../../payments/billers/port';
import { getBiller } from '../../payments/billers/repository';
import { problems } from '../core/errors';

/**
 * What the API asks of a biller before anything depends on it: that it exists (and is
 * active), that a customer reference is in its format, and that it knows the customer.
 * Shared by the catalogue routes and every bill payment's up-front checks
 * (payments/checks.ts).
 */

/** The active biller `id`, or a 404 naming `field`. */
export async function activeBiller(db: Db, id: string, field: string, location: 'path' | 'body'): Promise<Biller> {
  const biller = await getBiller(db, id);
  if (!biller) throw problems.billerNotFound(field, location);
  return biller;
}

/** A reference that cannot be one of the biller's is bad input (400), checked before asking the biller. */
export function assertReferenceFormat(biller: Biller, customerRef: string): void {
  if (!matchesReferenceFormat(biller, customerRef)) {
    throw problems.field('body', 'customerRef', 'invalid_format', `customerRef does not match ${biller.name}'s format, e.g. ${biller.customerRefExample}.`);
  }
}

/** The customer behind `customerRef`, or the problem that says why there is none. */
export async function validateCustomer(billers: BillerPort, biller: Biller, customerRef: string): Promise<Extract<CustomerValidation, { valid: true }>> {
  assertReferenceFormat(biller, customerRef);
  let validation;
  try {
    validation = await billers.validate(biller, customerRef);
  } catch (err) {
    if (err instanceof BillerUnavailableError) throw problems.billerUnavailable();
    throw err;
  }
  if (!validation.valid) throw problems.invalidCustomerReference('customerRef', `${biller.name} does not know customer reference ${customerRef}.`);
  return validation;
}

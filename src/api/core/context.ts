import type { Client } from '@temporalio/client';
import type { Config } from '../../config';
import type { Db } from '../../db/knex';
import type { Ledger } from '../../ledger/types';
import type { Logger } from '../../logger';
import type { BillerPort } from '../../payments/billers/port';
import type { Notifier } from '../../providers/notifier';
import type { MailboxPort } from '../../providers/mailbox/port';
import type { SecretBox } from '../../providers/mailbox/secret-box';
import type { ObjectStorage } from '../../providers/storage/port';

/** What the API needs from the outside world; tests pass their own. */
export interface AppDeps {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** The ledger the API reads balances and opens accounts through (built by createPorts). */
  ledger: Ledger;
  /** Validates customer references (built by createPorts, like the worker's). */
  billers: BillerPort;
  /** Sends verification codes (built by createPorts from SMS_PROVIDER and EMAIL_PROVIDER). */
  notifier: Notifier;
  /** Object storage (built by createPorts from S3_*): signs statement download links and takes partner card files; tests of other routes may leave it out. */
  storage?: ObjectStorage;
  /** The invoices line's ports (built by createPorts); an app built without them answers its routes with 503. */
  invoices?: AppInvoicePorts;
  /** Injectable clock so tests can move time; defaults to the wall clock. */
  now?: () => Date;
}

export interface AppInvoicePorts {
  /** Presigned links to invoice PDFs. */
  storage: ObjectStorage;
  /** The login test before a mailbox is saved. */
  mailbox: MailboxPort;
  /** Seals the mailbox password at rest. */
  secrets: SecretBox;
}

export type Principal =
  | { kind: 'user'; userId: string; role: 'customer' | 'operator' }
  | { kind: 'service' };

export interface AppState {
  requestId: string;
  log: Logger;
  principal?: Principal;
  /** Who is calling, as far as TRUST_PROXY lets us tell (src/api/core/client-address.ts). */
  clientAddress?: string;
  /** The validated request, set by the route's validation step. */
  input?: unknown;
}

export interface AppContext {
  config: Config;
  /** Storage and the invoice ports stay optional: only their routes need them, and they say so when missing. */
  deps: Required<Omit<AppDeps, 'storage' | 'invoices'>> & Pick<AppDeps, 'storage' | 'invoices'>;
}

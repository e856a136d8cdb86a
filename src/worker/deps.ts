import type { Config } from '../config';
import type { AppInvoicePorts } from '../api/core/context';
import type { Db } from '../db/knex';
import { createLedger } from '../ledger/service';
import type { Ledger } from '../ledger/types';
import { createHttpBillerPort } from '../payments/billers/http';
import { BillerUnavailableError, type BillerPort } from '../payments/billers/port';
import { createSandboxBillerPort } from '../payments/billers/sandbox';
import type { FundingProcessor } from '../providers/funding/port';
import { createSandboxFundingProcessor } from '../providers/funding/sandbox';
import { createSandboxFaults, withSandboxFaults, type FaultErrors, type SandboxName } from '../providers/sandbox-faults';
import { createStripeFundingProcessor } from '../providers/funding/stripe';
import { createEmailProvider, EmailSendError, type EmailProvider } from '../providers/email';
import { createNotifier, type Notifier } from '../providers/notifier';
import { createSmsProvider, SmsSendError, type SmsProvider } from '../providers/sms';
import type { ObjectStorage } from '../providers/storage/port';
import { createS3Storage } from '../providers/storage/s3';
import { createImapMailboxPort } from '../providers/mailbox/imap';
import type { MailboxPort } from '../providers/mailbox/port';
import { createSecretBox, type SecretBox } from '../providers/mailbox/secret-box';
import { createInvoiceReader, type InvoiceReader } from '../activities/invoices/reading';

/**
 * The one place config becomes ports: the worker, the API, `npm start`, the test stack
 * and the benchmarks all call createPorts, and nothing else constructs a provider. Which
 * adapter runs is read from config here (SMS_PROVIDER, EMAIL_PROVIDER, FUNDING_PROVIDER,
 * BILLER_PROVIDER, S3_*); loadConfig has already refused sandbox money providers outside
 * development and test unless ALLOW_SANDBOX_PROVIDERS=true.
 */
export interface Ports {
  ledger: Ledger;
  sms: SmsProvider;
  email: EmailProvider;
  notifier: Notifier;
  funding: FundingProcessor;
  billers: BillerPort;
  storage: ObjectStorage;
  // Invoices: the customer's IMAP mailbox, the box that seals its password, the issuer templates.
  mailbox: MailboxPort;
  secrets: SecretBox;
  invoiceReader: InvoiceReader;
}

export type PortsConfig = Pick<Config, 'sms' | 'email' | 'funding' | 'billers' | 'storage' | 'invoices'> & Partial<Pick<Config, 'sandboxFaults'>>;

export function createPorts(config: PortsConfig, { db }: { db: Db }): Ports {
  const faulty = sandboxFaulting(config, db);
  const sms = faulty.sms(createSmsProvider(config, db));
  const email = faulty.email(createEmailProvider(config, db));
  return {
    ledger: createLedger(db),
    sms,
    email,
    notifier: createNotifier({ db, sms, email }),
    funding: faulty.funding(createFundingProcessor(config, db)),
    billers: faulty.billers(createBillers(config, db)),
    storage: createS3Storage(config.storage),
    mailbox: createImapMailboxPort({ timeoutMs: config.invoices.imapTimeoutMs }),
    secrets: createSecretBox(config.invoices.mailboxKeys),
    invoiceReader: createInvoiceReader(config.invoices.templatesDir),
  };
}

/** The ports the API uses (it answers requests; the worker moves money). */
export function appPorts({ ledger, billers, notifier, storage, mailbox, secrets }: Ports): Pick<Ports, 'ledger' | 'billers' | 'notifier' | 'storage'> & { invoices: AppInvoicePorts } {
  return { ledger, billers, notifier, storage, invoices: { storage, mailbox, secrets } };
}

/**
 * With SANDBOX_FAULTS=true, each sandbox port obeys the faults the chaos run switches in
 * `sandbox_faults`, failing as its real adapter would (a retryable send error, an
 * unavailable biller, a processor that timed out); a real provider is never wrapped.
 */
function sandboxFaulting(config: PortsConfig, db: Db) {
  const faults = config.sandboxFaults ? createSandboxFaults(db) : undefined;
  const wrap =
    <T extends object>(name: SandboxName, isSandbox: (port: T) => boolean, errors: FaultErrors, methods: ReadonlyArray<keyof T>) =>
    (port: T): T =>
      faults && isSandbox(port) ? withSandboxFaults(port, name, faults, errors, methods) : port;
  const plain = (what: string): FaultErrors => ({ failure: (detail) => new Error(`${what} unavailable: ${detail}`), timeout: (detail) => new Error(`${what} timed out: ${detail}`) });
  return {
    sms: wrap<SmsProvider>('sms', (p) => p.name === 'sandbox', { failure: (d) => new SmsSendError('provider_error', true, d), timeout: (d) => new SmsSendError('timeout', true, d) }, ['send']),
    email: wrap<EmailProvider>('email', (p) => p.name === 'sandbox', { failure: (d) => new EmailSendError('provider_error', true, d), timeout: (d) => new EmailSendError('unreachable', true, d) }, ['send']),
    funding: wrap<FundingProcessor>('funding', (p) => p.name === 'sandbox', plain('funding processor'), ['charge', 'getCharge']),
    billers: wrap<BillerPort>('billers', (p) => p.name === 'sandbox', { failure: (d) => new BillerUnavailableError('sandbox', d), timeout: (d) => new BillerUnavailableError('sandbox', d) }, ['pay', 'getPaymentStatus', 'validate']),
  };
}

function createFundingProcessor({ funding }: PortsConfig, db: Db): FundingProcessor {
  if (funding.provider === 'sandbox') return createSandboxFundingProcessor(db);
  const { secretKey, apiUrl } = funding.stripe;
  if (!secretKey) throw new Error('FUNDING_PROVIDER=stripe needs STRIPE_SECRET_KEY');
  return createStripeFundingProcessor({ secretKey, apiUrl });
}

function createBillers({ billers }: PortsConfig, db: Db): BillerPort {
  if (billers.provider === 'sandbox') return createSandboxBillerPort(db);
  const { baseUrl, apiKey } = billers.http;
  if (!baseUrl || !apiKey) throw new Error('BILLER_PROVIDER=http needs BILLER_API_URL and BILLER_API_KEY');
  return createHttpBillerPort({ baseUrl, apiKey });
}

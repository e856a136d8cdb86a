import type { Client } from '@temporalio/client';
import type { Db } from '../db/knex';
import type { Ledger } from '../ledger/types';
import type { Limits } from '../limits/limits';
import type { FundingProcessor } from '../providers/funding/port';
import type { Notifier } from '../providers/notifier';
import type { BillerPort } from '../payments/billers/port';
import type { ObjectStorage } from '../providers/storage/port';
// One folder per product line, named as in src/workflows and src/api.
import { createHousekeepingActivities } from './platform/housekeeping';
import { createNotificationActivities } from './platform/notifications';
import { createOnboardingActivities } from './platform/onboarding';
import { createWalletActivities } from './wallet/wallet';
import { createAlertActivities } from './banking/alerts';
import { createLedgerActivities } from './banking/ledger';
import { createBankPostingActivities } from './banking/postings';
import { createSmsBankingActivities } from './banking/sms-banking';
import { createStatementActivities } from './banking/statements';
import { createStatementCycleActivities } from './banking/statement-cycles';
import { createBillerActivities } from './payments/billers';
import { createCashbackActivities } from './payments/cashback';
import { createPaymentActivities } from './payments/payments';
import { createBillStepActivities } from './payments/bill-steps';
import { createRecurringActivities } from './payments/recurring';
import { createRepairActivities } from './payments/repairs';
import { createCardActivities } from './cards/ingest';
import { createCardPickupActivities } from './cards/pickup';
import type { SmsProvider } from '../providers/sms';
import { createCampaignActivities } from './campaigns';
import type { CampaignSendSettings } from './campaigns/send-batch';
import { createInvoiceActivities, type InvoiceActivityDeps } from './invoices/invoices';
import { createErasureActivities } from './platform/erasure';
import { createRequestStartActivities } from './platform/request-starts';

/** The ports every activity may use; the worker builds them from config, tests pass their own. */
export interface ActivityDeps extends Omit<InvoiceActivityDeps, 'db' | 'notifier' | 'now'> {
  db: Db;
  notifier: Notifier;
  ledger: Ledger;
  funding: FundingProcessor;
  billers: BillerPort;
  now: () => Date;
  /** Per-transaction and daily limits (config `LIMITS`); none when absent. */
  limits?: Limits;
  /** A Temporal client, for activities that steer Schedules (pausing a recurring payment's). */
  temporal?: Client;
  // statements, cards and campaigns
  /** Object storage (S3_*): statements, partner card files and contact imports. */
  storage?: ObjectStorage;
  /** How long a statement's download link works (STATEMENT_LINK_TTL_SECONDS). */
  statementLinkTtlSeconds?: number;
  /** Rows per batch of a partner file (CARD_FILE_BATCH_ROWS). */
  cardFileBatchRows?: number;
  /** The SMS/WhatsApp port campaigns send through (the notifier wraps the same one). */
  sms?: SmsProvider;
  /** The sender's rate and the claim/budget timings (config CAMPAIGN_*). */
  campaignSend?: Partial<CampaignSendSettings>;
}

export function createActivities(deps: ActivityDeps) {
  return {
    // platform
    ...createOnboardingActivities(deps),
    ...createHousekeepingActivities(deps),
    ...createRequestStartActivities(deps),
    ...createNotificationActivities(deps),
    // wallet
    ...createWalletActivities(deps),
    // banking
    ...createLedgerActivities(deps),
    ...createBankPostingActivities(deps),
    ...createAlertActivities(deps),
    ...createStatementActivities(deps),
    ...createStatementCycleActivities(deps),
    ...createSmsBankingActivities(deps),
    // payments
    ...createBillerActivities(deps),
    ...createCashbackActivities(deps),
    ...createPaymentActivities(deps),
    ...createBillStepActivities(deps),
    ...createRecurringActivities(deps),
    ...createRepairActivities(deps),
    // cards
    ...createCardActivities(deps),
    ...createCardPickupActivities(deps),
    // campaigns
    ...createCampaignActivities(deps),
    // invoices
    ...createInvoiceActivities(deps),
    // erasure of a customer (platform; its steps reach every line)
    ...createErasureActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

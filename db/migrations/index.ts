import type { Knex } from 'knex';
import * as platform from './20261123_001_platform';
import * as ledger from './20261123_002_ledger';
import * as messaging from './20261123_003_messaging';
import * as wallet from './20261123_004_wallet';
import * as billers from './20261123_005_billers';
import * as payments from './20261123_006_payments';
import * as recurring from './20261123_007_recurring';
import * as idempotencyLease from './20261202_C01_idempotency_lease';
import * as auditLog from './20261202_C02_audit_log';
import * as rateLimits from './20261202_C03_rate_limits';
import * as verification from './20261202_C04_verification';
import * as paymentReview from './20261202_B01_payment_review';
import * as limits from './20261202_B02_limits';
// Issue 13 (wallet gaps).
import * as walletGaps from './20261202_H01_wallet_gaps';
import * as contactChange from './20261202_H02_contact_change';
import * as statements from './20261202_D01_statements';
import * as cards from './20261202_F01_cards';
import * as cardEventsErasure from './20261202_F02_card_events_erasure';
import * as campaigns from './20261202_G01_campaigns';
// Invoices from a mailbox (issue 10).
import * as invoices from './20261202_E01_invoices';
// Ledger (issue 15): one transfer as typed arguments, applied optimistically.
import * as typedTransfer from './20261202_L01_typed_transfer';
// Campaign receipts that arrive before their send is recorded (issue 12).
import * as campaignReceipts from './20261202_N01_campaign_receipts';
import * as requestStarts from './20261202_K01_request_starts';
import * as contactImportOffsets from './20261202_Q01_contact_import_offsets';
// Statement cycles (issue 9).
import * as statementDays from './20261202_P01_statement_days';
import * as cashbackIndex from './20261202_S01_cashback_index';
import * as sandboxFaults from './20261202_J01_sandbox_faults';

/**
 * Migrations are listed here rather than discovered on disk, so they run the same from
 * TypeScript sources, the compiled dist/ and a bundled image. Append only.
 */
const migrations: Record<string, Knex.Migration> = {
  '20261123_001_platform': platform,
  '20261123_002_ledger': ledger,
  '20261123_003_messaging': messaging,
  '20261123_004_wallet': wallet,
  '20261123_005_billers': billers,
  '20261123_006_payments': payments,
  '20261123_007_recurring': recurring,
  '20261202_C01_idempotency_lease': idempotencyLease,
  '20261202_C02_audit_log': auditLog,
  '20261202_C03_rate_limits': rateLimits,
  '20261202_C04_verification': verification,
  '20261202_B01_payment_review': paymentReview,
  '20261202_B02_limits': limits,
  '20261202_H01_wallet_gaps': walletGaps,
  '20261202_H02_contact_change': contactChange,
  '20261202_D01_statements': statements,
  '20261202_F01_cards': cards,
  '20261202_F02_card_events_erasure': cardEventsErasure,
  '20261202_G01_campaigns': campaigns,
  '20261202_E01_invoices': invoices,
  '20261202_L01_typed_transfer': typedTransfer,
  '20261202_N01_campaign_receipts': campaignReceipts,
  '20261202_P01_statement_days': statementDays,
  '20261202_S01_cashback_index': cashbackIndex,
  // issue 14: slow providers
  '20261202_J01_sandbox_faults': sandboxFaults,
  // issue 12: contact imports at a million rows
  '20261202_Q01_contact_import_offsets': contactImportOffsets,
  // requests whose workflow never started
  '20261202_K01_request_starts': requestStarts,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(Object.keys(migrations)),
  getMigrationName: (name) => name,
  getMigration: (name) => {
    const migration = migrations[name];
    if (!migration) throw new Error(`unknown migration ${name}`);
    return Promise.resolve(migration);
  },
};

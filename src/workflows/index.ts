export { onboarding } from './platform/onboarding';
export { expireIdempotencyKeys, expirePendingHolds, repairPaymentCredits } from './platform/housekeeping';
export { walletFunding } from './wallet/wallet-funding';
export { customerTransfer } from './wallet/customer-transfer';
export { bankPosting } from './banking/bank-posting';
export { payBill } from './payments/pay-bill';
export { payCard } from './payments/pay-card';
export { recurringPaymentRun } from './payments/recurring';
// Invoices (docs/invoices.md).
export { ingestMailbox, scheduledIngestion } from './invoices/ingest-mailbox';
export { reparseInvoices } from './invoices/reparse';
export { eraseUser } from './platform/erasure';

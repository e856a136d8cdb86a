export { onboarding } from './onboarding';
export { expireIdempotencyKeys, expirePendingHolds, repairPaymentCredits } from './housekeeping';
export { walletFunding } from './wallet-funding';
export { customerTransfer } from './customer-transfer';
export { bankPosting } from './bank-posting';
export { payBill } from './pay-bill';
export { payCard } from './pay-card';
export { recurringPaymentRun } from './recurring';

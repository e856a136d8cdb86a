import { isCancellation, proxyActivities, sleep, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ChargeFundingInput, ChargeFundingResult, FundingRecord } from '../../activities/wallet/wallet';
import type { FundingSource } from '../../providers/funding/port';
import { businessFailureOf } from '../../temporal/failures';
import { searchAttributes } from '../../temporal/names';
import { profiles } from '../shared/activity-profiles';
import { alertHolders, type HolderAlert } from '../banking/alerts';

const { chargeFunding, getFundingCharge } = proxyActivities<Activities>(profiles.provider);
const { postTransfer, recordFundingOutcome } = proxyActivities<Activities>(profiles.database);

/** Polling an unknown charge: 5 s, doubling, then every 15 minutes until the processor knows. */
const FIRST_STATUS_POLL_MS = 5_000;
const MAX_STATUS_POLL_MS = 15 * 60_000;

export interface WalletFundingInput {
  /** Also the id of the ledger transfer that credits the wallet (derived by the API from the Idempotency-Key). */
  fundingId: string;
  customerId: string;
  accountId: string;
  amountMinor: string;
  currency: string;
  source: FundingSource;
}

export type WalletFundingResult =
  | { fundingId: string; status: 'succeeded'; transferId: string; alerts: HolderAlert[] }
  | { fundingId: string; status: 'failed'; reason: string };

type KnownCharge = Exclude<ChargeFundingResult, { status: 'unknown' }>;

const setStatus = (value: string) => upsertSearchAttributes([{ key: searchAttributes.BusinessStatus, value }]);

/**
 * Tops up a wallet: charge the customer's card or bank account, then credit the wallet
 * from the funding clearing account, record the outcome and alert the holder. A decline
 * ends it with nothing posted. The charge id and the transfer id both derive from the
 * workflow id, so retries and restarts charge once and credit once.
 */
export async function walletFunding(input: WalletFundingInput): Promise<WalletFundingResult> {
  const { fundingId, customerId, accountId, amountMinor, currency, source } = input;
  const { workflowId } = workflowInfo();
  const record: FundingRecord = { fundingId, workflowId, customerId, accountId, amountMinor, currency, sourceType: source.type };

  setStatus('charging');
  const charge = await chargeUntilKnown({ chargeId: `${workflowId}:charge`, amountMinor, currency, source });
  if (charge.status === 'declined') return fail(record, charge.reason);

  setStatus('posting');
  try {
    await postTransfer({
      transferId: fundingId,
      debit: { systemRole: 'funding_clearing' },
      credit: { accountId },
      amountMinor,
      currency,
      code: 'wallet_funding',
      metadata: { fundingId, sourceType: source.type, processorChargeId: charge.processorChargeId, description: 'Wallet top-up' },
    });
  } catch (err) {
    // Validated before the start, so only an account closed or erased since lands here;
    // the charged money then waits in funding clearing for an operator to refund it.
    const failure = businessFailureOf(err);
    if (!failure) throw err;
    return fail(record, failure.type, charge.processorChargeId);
  }
  await recordFundingOutcome({ funding: record, outcome: { status: 'succeeded', transferId: fundingId }, processorChargeId: charge.processorChargeId });

  setStatus('alerting');
  const alerts = await alertHolders(fundingId, [accountId]);
  setStatus('succeeded');
  return { fundingId, status: 'succeeded', transferId: fundingId, alerts };
}

async function fail(record: FundingRecord, reason: string, processorChargeId?: string): Promise<WalletFundingResult> {
  await recordFundingOutcome({ funding: record, outcome: { status: 'failed', reason }, processorChargeId });
  setStatus('failed');
  return { fundingId: record.fundingId, status: 'failed', reason };
}

/**
 * Charges, and when the answer is lost (an `unknown` outcome, or every retry timed
 * out) asks the processor for the charge's status with backoff until it knows. A
 * charge the processor never received is sent again under the same id.
 */
async function chargeUntilKnown(request: ChargeFundingInput): Promise<KnownCharge> {
  let outcome = await chargeOrUnknown(request);
  if (outcome.status === 'unknown') setStatus('awaiting_charge_status');
  for (let delayMs = FIRST_STATUS_POLL_MS; outcome.status === 'unknown'; delayMs = Math.min(delayMs * 2, MAX_STATUS_POLL_MS)) {
    await sleep(delayMs);
    const status = await chargeStatus(request.chargeId);
    if (status.status === 'not_found') outcome = await chargeOrUnknown(request);
    else if (status.status !== 'pending') outcome = status;
  }
  return outcome;
}

async function chargeOrUnknown(request: ChargeFundingInput): Promise<ChargeFundingResult> {
  try {
    return await chargeFunding(request);
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { status: 'unknown' };
  }
}

/** A status query that fails after its retries counts as no news yet. */
async function chargeStatus(chargeId: string) {
  try {
    return await getFundingCharge({ chargeId });
  } catch (err) {
    if (isCancellation(err)) throw err;
    return { status: 'pending' as const };
  }
}

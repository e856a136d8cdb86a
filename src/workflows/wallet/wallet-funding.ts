import { isCancellation, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../activities';
import type { ChargeFundingInput, ChargeFundingResult, FundingRecord } from '../../activities/wallet/wallet';
import { businessFailureOf } from '../../temporal/failures';
import { profiles } from '../shared/activity-profiles';
import { alertHolders } from '../banking/alerts';
import { setBusinessStatus } from '../shared/business-status';
import { pollWithBackoff, type PollBackoff } from '../shared/status-poll';
import type { WalletFundingInput, WalletFundingResult } from './contract';

const { chargeFunding, getFundingCharge } = proxyActivities<Activities>(profiles.provider);
const { postTransfer, recordFundingOutcome } = proxyActivities<Activities>(profiles.database);

/**
 * Polling an unknown charge: 5 s, doubling, then every 15 minutes, for at most 14 days
 * (some 11,000 history events, well inside Temporal's limit). A charge still unknown
 * then fails the funding as `charge_outcome_unknown` with nothing credited: money may
 * have left the customer, so an operator reconciles it with the processor.
 */
const CHARGE_STATUS_POLL: PollBackoff = { firstDelayMs: 5_000, maxDelayMs: 15 * 60_000, maxWaitMs: 14 * 24 * 3600_000 };

/** Patch id: the charge status poll stops after its wait; histories recorded before it polled on. */
export const BOUNDED_CHARGE_POLL = 'wallet-funding-bounded-charge-poll';

type KnownCharge = Exclude<ChargeFundingResult, { status: 'unknown' }>;

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

  setBusinessStatus('charging');
  const charge = await chargeUntilKnown({ chargeId: `${workflowId}:charge`, amountMinor, currency, source });
  if (!charge) return fail(record, 'charge_outcome_unknown');
  if (charge.status === 'declined') return fail(record, charge.reason);

  setBusinessStatus('posting');
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

  setBusinessStatus('alerting');
  const alerts = await alertHolders(fundingId, [accountId]);
  setBusinessStatus('succeeded');
  return { fundingId, status: 'succeeded', transferId: fundingId, alerts };
}

async function fail(record: FundingRecord, reason: string, processorChargeId?: string): Promise<WalletFundingResult> {
  await recordFundingOutcome({ funding: record, outcome: { status: 'failed', reason }, processorChargeId });
  setBusinessStatus('failed');
  return { fundingId: record.fundingId, status: 'failed', reason };
}

/**
 * Charges, and when the answer is lost (an `unknown` outcome, or every retry timed
 * out) asks the processor for the charge's status with backoff until it knows, or
 * answers undefined when it still does not after the poll's wait. A charge the
 * processor never received is sent again under the same id.
 */
async function chargeUntilKnown(request: ChargeFundingInput): Promise<KnownCharge | undefined> {
  let outcome = await chargeOrUnknown(request);
  let polled = false;
  return pollWithBackoff<KnownCharge>(
    CHARGE_STATUS_POLL,
    async () => {
      if (polled) {
        const status = await chargeStatus(request.chargeId);
        if (status.status === 'not_found') outcome = await chargeOrUnknown(request);
        else if (status.status !== 'pending') outcome = status;
      } else if (outcome.status === 'unknown') {
        setBusinessStatus('awaiting_charge_status');
      }
      polled = true;
      return outcome.status === 'unknown' ? undefined : outcome;
    },
    { mayStop: () => patched(BOUNDED_CHARGE_POLL) },
  );
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

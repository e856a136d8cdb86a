import { randomUUID } from 'node:crypto';
import type { Db } from '../../db/knex';
import type { ChargeOutcome, ChargeRequest, ChargeStatus, FundingProcessor } from './port';

/**
 * A funding processor that runs here, scripted by Stripe-style test tokens (see
 * docs/wallet.md). Its charges live in PostgreSQL so its behaviour survives worker
 * restarts exactly as a real processor's would:
 *
 * - `tok_success`: the charge succeeds.
 * - `tok_decline`: declined (`card_declined`).
 * - `tok_timeout_then_success`: the first call for a charge id times out after the
 *   processor recorded it; the retry returns the recorded success.
 * - `tok_unknown_outcome`: the processor charges but answers `unknown`; getCharge()
 *   reports the success.
 * Any other token is declined as `invalid_token`.
 */
export const SANDBOX_TOKENS = ['tok_success', 'tok_decline', 'tok_timeout_then_success', 'tok_unknown_outcome'] as const;

export class SandboxTimeoutError extends Error {
  constructor(chargeId: string) {
    super(`sandbox funding processor timed out on charge ${chargeId}`);
    this.name = 'SandboxTimeoutError';
  }
}

interface ChargeRow {
  charge_id: string;
  processor_charge_id: string;
  status: 'succeeded' | 'declined';
  decline_reason: string | null;
  calls: number;
}

function outcomeFor(token: string): { status: 'succeeded' | 'declined'; reason: string | null } {
  if (token === 'tok_decline') return { status: 'declined', reason: 'card_declined' };
  if ((SANDBOX_TOKENS as readonly string[]).includes(token)) return { status: 'succeeded', reason: null };
  return { status: 'declined', reason: 'invalid_token' };
}

const toStatus = (row: ChargeRow): Extract<ChargeStatus, { status: 'succeeded' | 'declined' }> =>
  row.status === 'succeeded'
    ? { status: 'succeeded', processorChargeId: row.processor_charge_id }
    : { status: 'declined', reason: row.decline_reason ?? 'declined' };

export function createSandboxFundingProcessor(db: Db): FundingProcessor {
  return {
    name: 'sandbox',
    async charge(request: ChargeRequest): Promise<ChargeOutcome> {
      const scripted = outcomeFor(request.source.token);
      // Record the charge once; every later call for the same id sees the same row.
      await db('sandbox_funding_charges')
        .insert({
          charge_id: request.chargeId,
          processor_charge_id: `ch_${randomUUID().replace(/-/g, '')}`,
          token: request.source.token,
          amount_minor: request.amountMinor.toString(),
          currency: request.currency,
          status: scripted.status,
          decline_reason: scripted.reason,
          calls: 0,
        })
        .onConflict('charge_id')
        .ignore();
      const [row] = (await db('sandbox_funding_charges')
        .where({ charge_id: request.chargeId })
        .increment('calls', 1)
        .returning('*')) as ChargeRow[];
      if (!row) throw new Error(`sandbox charge ${request.chargeId} vanished`);
      if (request.source.token === 'tok_timeout_then_success' && row.calls === 1) throw new SandboxTimeoutError(request.chargeId);
      if (request.source.token === 'tok_unknown_outcome' && row.calls === 1) return { status: 'unknown' };
      return toStatus(row);
    },
    async getCharge(chargeId: string): Promise<ChargeStatus> {
      const row = (await db('sandbox_funding_charges').where({ charge_id: chargeId }).first()) as ChargeRow | undefined;
      return row ? toStatus(row) : { status: 'not_found' };
    },
  };
}

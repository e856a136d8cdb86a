import type { AppContext } from '../../core/context';
import { route, type RouteSpec } from '../../core/route';
import { TrialBalanceSchema } from './schema';

/** The ledger as a whole, for the service token or an operator's token (one account's statement is in internal/accounts/). */

const side = (s: { debitsMinor: bigint; creditsMinor: bigint; differenceMinor: bigint }) => ({
  debits: s.debitsMinor.toString(),
  credits: s.creditsMinor.toString(),
  difference: s.differenceMinor.toString(),
});

export function internalLedgerRoutes(app: AppContext): RouteSpec[] {
  const ledger = app.deps.ledger;
  return [
    route({
      method: 'get',
      path: '/internal/v1/ledger/trial-balance',
      summary: 'Per currency: total debits, total credits and their difference (always 0), posted and pending.',
      tags: ['operator'],
      access: 'internal',
      responses: { 200: { description: 'The trial balance.', schema: TrialBalanceSchema } },
      handler: async (ctx) => {
        const rows = await ledger.trialBalance();
        ctx.body = { data: rows.map((r) => ({ currency: r.currency, posted: side(r.posted), pending: side(r.pending) })) };
      },
    }),
  ];
}

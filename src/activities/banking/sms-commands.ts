import { consentKeyword } from '../../providers/sms/keywords';

/**
 * The SMS banking commands a registered customer can text: `BAL` (balances), `LAST n`
 * (the last n transactions, n ≤ 10), `STMT n` (a statement of the last n, sent as a
 * link), `HELP`, and the consent keywords (STOP and its kin end alerts, START and its kin
 * resume them). Anything else is `unknown`, answered with the help text.
 */

export const MAX_LAST_TRANSACTIONS = 10;
export const MAX_STATEMENT_TRANSACTIONS = 1000;
const DEFAULT_LAST = 5;
const DEFAULT_STATEMENT = 10;

export type SmsCommand =
  | { kind: 'balance' }
  | { kind: 'last'; count: number }
  | { kind: 'statement'; count: number }
  | { kind: 'help' }
  | { kind: 'opt_out' }
  | { kind: 'opt_in' }
  | { kind: 'unknown'; reason: 'not_a_command' | 'count_out_of_range' };

export function parseSmsCommand(text: string): SmsCommand {
  const consent = consentKeyword(text);
  if (consent) return consent;
  const match = /^\s*(BAL|BALANCE|LAST|STMT|STATEMENT)(?:\s+(\d{1,4}))?\s*[.!]?\s*$/i.exec(text);
  if (!match) return { kind: 'unknown', reason: 'not_a_command' };
  const verb = (match[1] as string).toUpperCase();
  const count = match[2] === undefined ? undefined : Number(match[2]);
  if (verb === 'BAL' || verb === 'BALANCE') return count === undefined ? { kind: 'balance' } : { kind: 'unknown', reason: 'not_a_command' };
  if (verb === 'LAST') {
    const n = count ?? DEFAULT_LAST;
    return n >= 1 && n <= MAX_LAST_TRANSACTIONS ? { kind: 'last', count: n } : { kind: 'unknown', reason: 'count_out_of_range' };
  }
  const n = count ?? DEFAULT_STATEMENT;
  return n >= 1 && n <= MAX_STATEMENT_TRANSACTIONS ? { kind: 'statement', count: n } : { kind: 'unknown', reason: 'count_out_of_range' };
}

export const SMS_HELP_TEXT =
  'finflow: text BAL for balances, LAST 5 for recent transactions (up to 10), STMT 10 for a statement link, STOP to end alerts, START to resume.';

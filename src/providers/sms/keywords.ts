/**
 * What an inbound text means, before any account is looked at. The consent keywords are
 * the carriers' (CTIA) and Twilio's and Plivo's: a single word, any case, surrounding
 * spaces and punctuation ignored; "stop sending me these" is not an opt-out.
 */

export const OPT_OUT_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT'] as const;
export const OPT_IN_KEYWORDS = ['START', 'YES', 'UNSTOP'] as const;
export const HELP_KEYWORDS = ['HELP', 'INFO'] as const;

export type ConsentKeyword = { kind: 'opt_out' } | { kind: 'opt_in' } | { kind: 'help' };

/** The text as one upper-case word, or undefined when it is more than one word. */
function singleWord(text: string): string | undefined {
  const word = text
    .trim()
    .replace(/^[\s"'“‘(]+|[\s"'”’).!?]+$/g, '')
    .toUpperCase();
  return /^[A-Z]+$/.test(word) ? word : undefined;
}

export function consentKeyword(text: string): ConsentKeyword | undefined {
  const word = singleWord(text);
  if (word === undefined) return undefined;
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_out' };
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_in' };
  if ((HELP_KEYWORDS as readonly string[]).includes(word)) return { kind: 'help' };
  return undefined;
}

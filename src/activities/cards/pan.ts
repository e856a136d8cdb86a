/**
 * Card numbers (PANs) in partner files. finflow never stores one: a row with a value
 * that looks like a full card number (13 to 19 digits, spaces or dashes allowed between
 * them, passing the Luhn check) is refused, and the raw text kept for a rejected row has
 * every such value replaced before it is written anywhere.
 */

/** Runs of digits with single spaces or dashes between them, bounded by non-digits. */
const DIGIT_RUN = /(?<![\d])\d(?:[ -]?\d){12,}(?![\d])/g;

export const PAN_REDACTION = '[redacted card number]';

/** The Luhn (mod 10) check over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i += 1) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** Whether `run` (digits, maybe separated) is a card number: 13 to 19 digits passing Luhn. */
function isPan(run: string): boolean {
  const digits = run.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

/** How many digits the text holds: fewer than 13 cannot make a card number, and counting is far cheaper than the pattern. */
function digitCount(text: string): number {
  let digits = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) digits += 1;
  }
  return digits;
}

/** Whether any value in the text looks like a full card number. */
export function containsPan(text: string): boolean {
  if (digitCount(text) < 13) return false;
  for (const match of text.matchAll(DIGIT_RUN)) if (isPan(match[0])) return true;
  return false;
}

/** The text with every card-number-looking run replaced by PAN_REDACTION. */
export function redactPans(text: string): string {
  return text.replace(DIGIT_RUN, (run) => (isPan(run) ? PAN_REDACTION : run));
}

/**
 * Message templates: a body with `{{ placeholder }}` fields, each of which the template
 * declares. A placeholder names a contact attribute by dotted path (`first_name`,
 * `profile.tier`) or the contact's `phone`. Rendering for one contact either yields the
 * text or says which placeholder it could not fill, so one bad contact is recorded as
 * `skipped_render_error` and the campaign goes on.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}/g;

/** The placeholders a body uses, in order of first use. */
export function placeholdersOf(body: string): string[] {
  return [...new Set([...body.matchAll(PLACEHOLDER)].map((match) => match[1] as string))];
}

/** Placeholders the body uses but the template does not declare. */
export function undeclaredPlaceholders(body: string, declared: readonly string[]): string[] {
  return placeholdersOf(body).filter((name) => !declared.includes(name));
}

export interface RenderContact {
  phone: string;
  attributes: Record<string, unknown>;
}

export type Rendered = { ok: true; text: string } | { ok: false; reason: string };

function lookup(contact: RenderContact, path: string): unknown {
  if (path === 'phone') return contact.phone;
  let value: unknown = contact.attributes;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

export function render(body: string, contact: RenderContact): Rendered {
  let missing: string | undefined;
  const text = body.replace(PLACEHOLDER, (_, name: string) => {
    const value = lookup(contact, name);
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
    missing ??= name;
    return '';
  });
  return missing === undefined ? { ok: true, text } : { ok: false, reason: `missing_placeholder: ${missing}` };
}

// GSM 03.38: the basic set costs one septet, the extension set two (escape + char).
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '^{}\\[~]|€\f';
const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export interface SmsSegments {
  encoding: 'GSM-7' | 'UCS-2';
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

/**
 * How many SMS parts a text takes: GSM-7 fits 160 septets in one part and 153 in each
 * part of a concatenated message; a text with any other character goes as UCS-2, 70
 * code units in one part and 67 per part (the 6- or 7-octet concatenation header).
 */
export function smsSegments(text: string): SmsSegments {
  let septets = 0;
  for (const char of text) {
    if (BASIC.has(char)) septets += 1;
    else if (EXTENSION.has(char)) septets += 2;
    else {
      const units = text.length;
      return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : Math.ceil(units / 67) };
    }
  }
  return { encoding: 'GSM-7', units: septets, segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
}

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { currencyExponent } from '../../money/money';

/**
 * Issuer templates: how to read one issuer's invoices, kept as YAML data files (one per
 * issuer, in templates/) so an operator adds an issuer without a release. A template
 * names the words that select it, a regular expression per field, its date formats and
 * its number separators; ambiguous separators and date orders are settled by the
 * template, never guessed. A text no template selects, or one whose required fields do
 * not all parse, is `unparsed` with the reason.
 */

const pattern = z.string().refine((source) => {
  try {
    new RegExp(source, 'u');
    return true;
  } catch {
    return false;
  }
}, 'not a valid regular expression');

const DATE_FORMATS = ['YYYY-MM-DD', 'DD.MM.YYYY', 'MM/DD/YYYY', 'DD/MM/YYYY'] as const;

export const TemplateSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/),
    issuer: z.string().min(1),
    /** The biller an invoice of this issuer is paid to (POST /v1/invoices/{id}/pay); none: it cannot be paid through finflow. */
    billerId: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/).optional(),
    match: z.object({ all: z.array(z.string().min(1)).min(1) }).strict(),
    currency: z.string().regex(/^[A-Z]{3}$/),
    number: z.object({ decimal: z.enum([',', '.']), thousands: z.enum([' ', ',', '.', "'", '']) }).strict(),
    dates: z.array(z.enum(DATE_FORMATS)).min(1),
    fields: z
      .object({
        invoiceNumber: pattern,
        amountDue: pattern,
        dueDate: pattern,
        paymentReference: pattern,
        period: pattern.optional(),
        issuer: pattern.optional(),
      })
      .strict(),
    lineItems: z.array(z.object({ name: z.string().min(1), pattern }).strict()).default([]),
  })
  .strict()
  .refine((t) => t.number.decimal !== t.number.thousands, 'decimal and thousands separators must differ');

export type InvoiceTemplate = z.infer<typeof TemplateSchema>;

export const TEMPLATES_DIR = join(__dirname, 'templates');

/** Loads every `*.yaml` template of a folder; a broken file fails loudly with its name. */
export async function loadTemplates(dir = TEMPLATES_DIR): Promise<InvoiceTemplate[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (file) => {
      const parsed = TemplateSchema.safeParse(parseYaml(await readFile(join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`invoice template ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      return parsed.data;
    }),
  );
}

export interface ParsedInvoice {
  status: 'parsed';
  templateId: string;
  issuer: string;
  invoiceNumber: string;
  amountDueMinor: bigint;
  currency: string;
  /** ISO date (YYYY-MM-DD). */
  dueDate: string;
  paymentReference: string;
  period: string | undefined;
  lineItems: Array<{ name: string; amountMinor: bigint }>;
  /** The template's biller, when its issuer can be paid through finflow. */
  billerId?: string;
}

export interface UnparsedInvoice {
  status: 'unparsed';
  templateId: string | undefined;
  reason: string;
}

/** A decimal written with the template's separators, as exact minor units of `currency`. */
export function parseAmountMinor(text: string, template: Pick<InvoiceTemplate, 'number' | 'currency'>): bigint | undefined {
  const { decimal, thousands } = template.number;
  const compact = text.replace(/[\s\u00a0\u202f]/g, thousands === ' ' ? '' : ' ').trim();
  const withoutThousands = thousands === '' || thousands === ' ' ? compact : compact.split(thousands).join('');
  const [whole, fraction = '', extra] = withoutThousands.split(decimal);
  if (extra !== undefined || !/^\d+$/.test(whole ?? '') || !/^\d*$/.test(fraction)) return undefined;
  const exponent = currencyExponent(template.currency);
  if (fraction.length > exponent) return undefined;
  return BigInt(`${whole}${fraction.padEnd(exponent, '0')}`);
}

/** A date in one of the template's formats, as an ISO date; undefined when it is not a real date. */
export function parseTemplateDate(text: string, formats: readonly string[]): string | undefined {
  for (const format of formats) {
    const shape = format.replace(/YYYY/, '(?<y>\\d{4})').replace(/MM/, '(?<m>\\d{2})').replace(/DD/, '(?<d>\\d{2})').replace(/[./]/g, (c) => `\\${c}`);
    const groups = new RegExp(`^${shape}$`).exec(text.trim())?.groups;
    if (!groups) continue;
    const iso = `${groups.y}-${groups.m}-${groups.d}`;
    const date = new Date(`${iso}T00:00:00Z`);
    if (!Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === iso) return iso;
  }
  return undefined;
}

function capture(source: string, text: string): string | undefined {
  return new RegExp(source, 'mu').exec(text)?.[1]?.trim();
}

/** Reads one invoice's text with the first template whose words it contains. */
export function parseInvoiceText(text: string, templates: readonly InvoiceTemplate[]): ParsedInvoice | UnparsedInvoice {
  const template = templates.find((t) => t.match.all.every((word) => text.includes(word)));
  if (!template) return { status: 'unparsed', templateId: undefined, reason: 'no template matches this document' };
  const fail = (reason: string): UnparsedInvoice => ({ status: 'unparsed', templateId: template.id, reason });

  const invoiceNumber = capture(template.fields.invoiceNumber, text);
  if (!invoiceNumber) return fail('invoice number not found');
  const amountText = capture(template.fields.amountDue, text);
  if (!amountText) return fail('amount due not found');
  const amountDueMinor = parseAmountMinor(amountText, template);
  if (amountDueMinor === undefined) return fail(`amount due "${amountText}" is not a ${template.currency} amount as the template writes them`);
  const dueText = capture(template.fields.dueDate, text);
  if (!dueText) return fail('due date not found');
  const dueDate = parseTemplateDate(dueText, template.dates);
  if (!dueDate) return fail(`due date "${dueText}" is not a date in ${template.dates.join(' or ')}`);
  const paymentReference = capture(template.fields.paymentReference, text);
  if (!paymentReference) return fail('payment reference not found');

  const lineItems: ParsedInvoice['lineItems'] = [];
  for (const item of template.lineItems) {
    const found = capture(item.pattern, text);
    const amountMinor = found === undefined ? 0n : parseAmountMinor(found, template);
    if (amountMinor === undefined) return fail(`line item ${item.name} "${found}" is not an amount`);
    lineItems.push({ name: item.name, amountMinor });
  }
  return {
    status: 'parsed',
    templateId: template.id,
    issuer: (template.fields.issuer && capture(template.fields.issuer, text)) || template.issuer,
    invoiceNumber,
    amountDueMinor,
    currency: template.currency,
    dueDate,
    paymentReference,
    period: template.fields.period ? capture(template.fields.period, text) : undefined,
    lineItems,
    ...(template.billerId ? { billerId: template.billerId } : {}),
  };
}

import { pdfLines } from './pdf-text';
import { loadTemplates, parseInvoiceText, TEMPLATES_DIR, type InvoiceTemplate, type ParsedInvoice, type UnparsedInvoice } from './templates';

/**
 * Reads an invoice PDF: its text through pdf.js, its fields through the issuer
 * templates. The templates are loaded once; `reload` reads the folder again, so an
 * operator's new template file counts at the next re-parse without a restart. A PDF
 * pdf.js cannot open is `unparsed` with the reason, never an error.
 */
export interface InvoiceReader {
  read(pdf: Buffer): Promise<ParsedInvoice | UnparsedInvoice>;
  reload(): Promise<void>;
}

export function createInvoiceReader(dir: string = TEMPLATES_DIR): InvoiceReader {
  let templates: Promise<InvoiceTemplate[]> | undefined;
  return {
    async read(pdf) {
      templates ??= loadTemplates(dir);
      let text: string;
      try {
        text = (await pdfLines(pdf)).flat().join('\n');
      } catch (err) {
        return { status: 'unparsed', templateId: undefined, reason: `the PDF cannot be read: ${(err as Error).message}` };
      }
      if (text.trim() === '') return { status: 'unparsed', templateId: undefined, reason: 'the PDF has no text (a scan?)' };
      return parseInvoiceText(text, await templates);
    },
    async reload() {
      templates = loadTemplates(dir);
      await templates;
    },
  };
}

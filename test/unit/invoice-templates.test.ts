import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { pdfLines } from '../../src/activities/invoices/pdf-text';
import { loadTemplates, parseAmountMinor, parseInvoiceText, parseTemplateDate, type InvoiceTemplate } from '../../src/activities/invoices/templates';

/**
 * Issuer templates read invoices as a person reads them: PDFs made here with pdfkit, their
 * text extracted with pdf.js, and each field settled by its template (separators, date
 * order), never guessed.
 */

function pdf(lines: string[]): Promise<Buffer> {
  const doc = new PDFDocument({ size: 'A4' });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  for (const line of lines) doc.text(line);
  doc.end();
  return done;
}

async function textOf(lines: string[]): Promise<string> {
  return (await pdfLines(await pdf(lines))).flat().join('\n');
}

describe('invoice templates', function () {
  this.timeout(20_000);
  let templates: InvoiceTemplate[];

  before(async () => {
    templates = await loadTemplates();
  });

  it('loads the shipped templates', () => {
    assert.deepEqual(templates.map((t) => t.id).sort(), ['de-invoice', 'se-rent', 'us-utility']);
  });

  it('reads a Swedish rent invoice: OCR reference, space thousands, the breakdown with missing items as 0', async () => {
    const text = await textOf([
      'Hyresvärd: Bostads AB Ekhagen',
      'Fakturanummer: 2026-1187',
      'Period: 2026-12-01 - 2026-12-31',
      'Hyra 8 450,00',
      'El 412,50',
      'Kallvatten 180,00',
      'Moms 103,13',
      'Totalt att betala: 9 145,63',
      'Förfallodatum: 2026-11-30',
      'OCR: 4820193755 #',
    ]);
    assert.deepEqual(parseInvoiceText(text, templates), {
      status: 'parsed',
      templateId: 'se-rent',
      issuer: 'Bostads AB Ekhagen',
      invoiceNumber: '2026-1187',
      amountDueMinor: 914_563n,
      currency: 'SEK',
      dueDate: '2026-11-30',
      paymentReference: '4820193755',
      period: '2026-12-01 - 2026-12-31',
      lineItems: [
        { name: 'Hyra', amountMinor: 845_000n },
        { name: 'El', amountMinor: 41_250n },
        { name: 'Kallvatten', amountMinor: 18_000n },
        { name: 'Varmvatten', amountMinor: 0n },
        { name: 'Moms', amountMinor: 10_313n },
      ],
    });
  });

  it('reads an English utility bill: comma thousands, MM/DD/YYYY', async () => {
    const text = await textOf(['BrightGrid Power', 'Invoice number: BG-998877', 'Account number: 4820193755', 'Service period: Nov 2026', 'Energy charge $1,104.20', 'Delivery charge $98.31', 'Taxes and fees $32.05', 'Amount due: $1,234.56', 'Due date: 12/07/2026']);
    const parsed = parseInvoiceText(text, templates);
    assert.equal(parsed.status, 'parsed');
    assert.deepEqual(parsed.status === 'parsed' && [parsed.templateId, parsed.amountDueMinor, parsed.dueDate, parsed.paymentReference, parsed.lineItems.map((l) => l.amountMinor)], ['us-utility', 123_456n, '2026-12-07', '4820193755', [110_420n, 9_831n, 3_205n]]);
  });

  it('reads a German invoice: dot thousands, comma decimals, DD.MM.YYYY', async () => {
    const text = await textOf(['Rechnungssteller: Stadtwerke Musterstadt GmbH', 'Rechnungsnummer: R-2026-4711', 'Abrechnungszeitraum: 01.11.2026 - 30.11.2026', 'Nettobetrag 1.037,44', 'MwSt 19 % 197,12', 'Rechnungsbetrag: 1.234,56', 'Fällig am: 07.12.2026', 'Verwendungszweck: KD-77310']);
    const parsed = parseInvoiceText(text, templates);
    assert.equal(parsed.status, 'parsed');
    assert.deepEqual(parsed.status === 'parsed' && [parsed.issuer, parsed.amountDueMinor, parsed.currency, parsed.dueDate, parsed.paymentReference], ['Stadtwerke Musterstadt GmbH', 123_456n, 'EUR', '2026-12-07', 'KD-77310']);
  });

  it('keeps a document no template selects as unparsed, with the reason', async () => {
    assert.deepEqual(parseInvoiceText(await textOf(['Thank you for your order', 'Total 12.00']), templates), { status: 'unparsed', templateId: undefined, reason: 'no template matches this document' });
  });

  it('keeps a selected document whose due date is not a real date as unparsed, naming the field', async () => {
    const text = await textOf(['Rechnungsnummer: R-1', 'Rechnungsbetrag: 10,00', 'Fällig am: 31.02.2026', 'Verwendungszweck: X']);
    assert.deepEqual(parseInvoiceText(text, templates), { status: 'unparsed', templateId: 'de-invoice', reason: 'due date "31.02.2026" is not a date in DD.MM.YYYY' });
  });

  it('settles separators by the template: 1.234 is a thousand in German, refused in English', () => {
    const de = { currency: 'EUR', number: { decimal: ',', thousands: '.' } } as const;
    const us = { currency: 'USD', number: { decimal: '.', thousands: ',' } } as const;
    assert.equal(parseAmountMinor('1.234', de), 123_400n);
    assert.equal(parseAmountMinor('1.234', us), undefined);
    assert.equal(parseAmountMinor('1,234.5', us), 123_450n);
    assert.equal(parseAmountMinor('12,345', { currency: 'JPY', number: { decimal: '.', thousands: ',' } }), 12_345n);
  });

  it('settles date order by the template: 03/04/2026 is March 4th in MM/DD, April 3rd in DD/MM', () => {
    assert.equal(parseTemplateDate('03/04/2026', ['MM/DD/YYYY']), '2026-03-04');
    assert.equal(parseTemplateDate('03/04/2026', ['DD/MM/YYYY']), '2026-04-03');
    assert.equal(parseTemplateDate('2026-02-30', ['YYYY-MM-DD']), undefined);
  });

  it('refuses a broken template file with its name and the problem', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'finflow-templates-'));
    try {
      await writeFile(join(dir, 'bad.yaml'), 'id: bad\nissuer: X\nmatch: { all: [X] }\ncurrency: usd\nnumber: { decimal: ".", thousands: "." }\ndates: [YYYY-MM-DD]\nfields: { invoiceNumber: "(", amountDue: "a", dueDate: "b", paymentReference: "c" }\n');
      await assert.rejects(loadTemplates(dir), /invoice template bad\.yaml: .*currency.*invoiceNumber: not a valid regular expression/s);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import PDFDocument from 'pdfkit';

/**
 * Invoice PDFs as the three shipped issuer templates read them (made with pdfkit), for
 * `npm start`'s demo mailbox, the tests and the benchmark. `n` varies the invoice number,
 * reference and amount, so each is a different document (a different content hash).
 */

export function textPdf(lines: string[]): Promise<Buffer> {
  // A fixed creation date keeps the bytes of one text the same, as a re-sent invoice's would be.
  const doc = new PDFDocument({ size: 'A4', info: { CreationDate: new Date('2026-01-01T00:00:00Z') } });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve) => doc.on('end', () => resolve(Buffer.concat(chunks))));
  for (const line of lines) doc.text(line);
  doc.end();
  return done;
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A Swedish rent invoice: total 9 145,63 + n kronor, due 2026-12-30, OCR reference. */
export const swedishRentLines = (n = 0) => [
  'Hyresvärd: Bostads AB Ekhagen',
  `Fakturanummer: 2026-${pad(1000 + n, 4)}`,
  'Period: 2026-12-01 - 2026-12-31',
  'Hyra 8 450,00',
  'El 412,50',
  'Kallvatten 180,00',
  `Moms ${103 + n},13`,
  `Totalt att betala: 9 ${145 + n},63`,
  'Förfallodatum: 2026-12-30',
  `OCR: ${pad(4820193700 + n, 10)} #`,
];

/** An English utility bill: 1,234.56 dollars, due 12/07/2026. */
export const usUtilityLines = (n = 0) => [
  'BrightGrid Power',
  `Invoice number: BG-${pad(n, 6)}`,
  `Account number: ${pad(4820193755 + n * 100, 10)}`,
  'Service period: Nov 2026',
  'Energy charge $1,104.20',
  'Delivery charge $98.31',
  'Taxes and fees $32.05',
  'Amount due: $1,234.56',
  'Due date: 12/07/2026',
];

/** A German invoice: 1.234,56 euro, due 15.12.2026. */
export const germanInvoiceLines = (n = 0) => [
  'Rechnungssteller: Stadtwerke Musterstadt',
  `Rechnungsnummer: R-${pad(n, 6)}`,
  'Abrechnungszeitraum: 01.11.2026 - 30.11.2026',
  'Nettobetrag 1.037,45',
  'MwSt 19 % 197,11',
  'Rechnungsbetrag: 1.234,56',
  'Fällig am: 15.12.2026',
  `Verwendungszweck: RF${pad(18055 + n * 100, 8)}`,
];

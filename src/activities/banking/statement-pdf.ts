import { randomBytes } from 'node:crypto';
import PDFDocument from 'pdfkit';
import { formatMoney } from '../../money/money';

/**
 * An account statement as a PDF: a header on every page (holder, account, period),
 * the opening balance, one line per transaction with its date, description, debit,
 * credit and the running balance after it, the closing balance, and "Page n of m".
 * The file is encrypted with AES-256 (PDF 1.7 extension level 3) under the holder's
 * password; it may be printed, not edited or copied from.
 */

export interface StatementLine {
  postedAt: Date;
  description: string;
  /** Money out of the account (minor units), or 0. */
  debitMinor: bigint;
  /** Money into the account (minor units), or 0. */
  creditMinor: bigint;
  balanceAfterMinor: bigint;
}

export interface StatementDocument {
  holderName: string;
  accountLabel: string;
  maskedAccountNumber: string;
  currency: string;
  periodFrom: Date;
  /** The last instant (so the last day) the statement covers, not the period's exclusive end. */
  periodTo: Date;
  openingBalanceMinor: bigint;
  closingBalanceMinor: bigint;
  lines: StatementLine[];
  generatedAt: Date;
  /** Lines printed under the closing balance (a card's outstanding, minimum due and due date). */
  notes?: string[];
}

/** The password a statement is opened with: the holder's date of birth as DDMMYYYY. */
export function statementPassword(dateOfBirth: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateOfBirth);
  if (!match) throw new Error('dateOfBirth must be YYYY-MM-DD');
  const [, year, month, day] = match;
  return `${day}${month}${year}`;
}

/** How the SMS tells the customer to open it. */
export const STATEMENT_PASSWORD_HINT = 'The PDF password is your date of birth as DDMMYYYY.';

const MARGIN = 50;
const COLUMNS = { date: 50, description: 120, debit: 330, credit: 405, balance: 480 } as const;
const AMOUNT_WIDTH = 70;
const ROW_HEIGHT = 16;

const day = (date: Date) => date.toISOString().slice(0, 10);
const amount = (minor: bigint, currency: string) => (minor === 0n ? '' : formatMoney(minor, currency).replace(`${currency} `, ''));

/**
 * Renders the statement, encrypted under `password`. Without one (only the statements
 * bench, as the baseline of pdfkit's own cost) the same pages are written unencrypted.
 */
export function renderStatementPdf(statement: StatementDocument, password: string | undefined): Promise<Buffer> {
  const encryption = password
    ? {
        pdfVersion: '1.7ext3' as const,
        userPassword: password,
        // Nobody is meant to hold the owner password: the permissions below are the only ones.
        ownerPassword: randomBytes(24).toString('base64url'),
        permissions: { printing: 'highResolution' as const },
      }
    : {};
  const doc = new PDFDocument({
    size: 'A4',
    margins: { top: 110, bottom: 60, left: MARGIN, right: MARGIN },
    bufferPages: true,
    ...encryption,
    info: { Title: `Statement ${day(statement.periodFrom)} to ${day(statement.periodTo)}`, Author: 'finflow', CreationDate: statement.generatedAt },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  const { currency } = statement;
  const tableHeader = () => {
    doc.font('Helvetica-Bold').fontSize(9);
    const y = doc.y;
    doc.text('Date', COLUMNS.date, y);
    doc.text('Description', COLUMNS.description, y);
    for (const [label, x] of [['Debit', COLUMNS.debit], ['Credit', COLUMNS.credit], ['Balance', COLUMNS.balance]] as const) {
      doc.text(label, x, y, { width: AMOUNT_WIDTH, align: 'right' });
    }
    doc.font('Helvetica').fontSize(9);
    doc.y = y + ROW_HEIGHT;
  };
  const row = (cells: { date: string; description: string; debit: string; credit: string; balance: string }) => {
    if (doc.y + ROW_HEIGHT > doc.page.height - doc.page.margins.bottom) {
      doc.addPage();
      tableHeader();
    }
    const y = doc.y;
    doc.text(cells.date, COLUMNS.date, y, { lineBreak: false });
    doc.text(cells.description, COLUMNS.description, y, { width: COLUMNS.debit - COLUMNS.description - 10, lineBreak: false, ellipsis: true });
    doc.text(cells.debit, COLUMNS.debit, y, { width: AMOUNT_WIDTH, align: 'right', lineBreak: false });
    doc.text(cells.credit, COLUMNS.credit, y, { width: AMOUNT_WIDTH, align: 'right', lineBreak: false });
    doc.text(cells.balance, COLUMNS.balance, y, { width: AMOUNT_WIDTH, align: 'right', lineBreak: false });
    doc.y = y + ROW_HEIGHT;
  };

  doc.y = doc.page.margins.top;
  tableHeader();
  const blank = { debit: '', credit: '' };
  row({ date: day(statement.periodFrom), description: 'Opening balance', ...blank, balance: amount(statement.openingBalanceMinor, currency) || '0.00' });
  for (const line of statement.lines) {
    row({
      date: day(line.postedAt),
      description: line.description,
      debit: amount(line.debitMinor, currency),
      credit: amount(line.creditMinor, currency),
      balance: amount(line.balanceAfterMinor, currency) || '0.00',
    });
  }
  row({ date: day(statement.periodTo), description: 'Closing balance', ...blank, balance: amount(statement.closingBalanceMinor, currency) || '0.00' });
  for (const note of statement.notes ?? []) {
    if (doc.y + ROW_HEIGHT > doc.page.height - doc.page.margins.bottom) doc.addPage();
    const y = doc.y + 4;
    doc.font('Helvetica-Bold').text(note, MARGIN, y, { lineBreak: false });
    doc.font('Helvetica');
    doc.y = y + ROW_HEIGHT;
  }

  // The header and page numbers go on last, when the page count is known.
  const { start, count } = doc.bufferedPageRange();
  for (let index = start; index < start + count; index++) {
    doc.switchToPage(index);
    const bottom = doc.page.margins.bottom;
    doc.page.margins.bottom = 0;
    doc.font('Helvetica-Bold').fontSize(14).text('Account statement', MARGIN, 40, { lineBreak: false });
    doc.font('Helvetica').fontSize(9);
    doc.text(`${statement.holderName}  ·  ${statement.accountLabel} ${statement.maskedAccountNumber}  ·  ${currency}`, MARGIN, 62, { lineBreak: false });
    doc.text(`Period ${day(statement.periodFrom)} to ${day(statement.periodTo)}`, MARGIN, 76, { lineBreak: false });
    doc.text(`Page ${index - start + 1} of ${count}`, MARGIN, doc.page.height - 40, { width: doc.page.width - 2 * MARGIN, align: 'right', lineBreak: false });
    doc.page.margins.bottom = bottom;
  }
  doc.end();
  return done;
}

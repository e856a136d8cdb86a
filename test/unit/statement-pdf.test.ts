import assert from 'node:assert/strict';
import { formatMoney } from '../../src/money/money';
import { renderStatementPdf, statementPassword, type StatementDocument, type StatementLine } from '../../src/activities/banking/statement-pdf';
import { PdfPasswordError, pdfLines } from '../../src/activities/invoices/pdf-text';

/**
 * The statement PDF, read back as a person would: opened with the holder's password,
 * its text holds every transaction with the figures it was given, a header and a page
 * number on every page; without the password it does not open.
 */

const amount = (minor: bigint) => (minor === 0n ? '' : formatMoney(minor, 'USD').replace('USD ', ''));

function statement(lineCount: number): StatementDocument {
  let balance = 125_000n;
  const opening = balance;
  const lines: StatementLine[] = [];
  for (let i = 0; i < lineCount; i++) {
    const credit = i % 3 === 0 ? BigInt(10_000 + i) : 0n;
    const debit = credit === 0n ? BigInt(1_234 + i * 7) : 0n;
    balance += credit - debit;
    lines.push({ postedAt: new Date(Date.UTC(2026, 10, 1 + (i % 28), 12)), description: i % 3 === 0 ? 'Salary ACME Corp' : `Card purchase #${i}`, debitMinor: debit, creditMinor: credit, balanceAfterMinor: balance });
  }
  return {
    holderName: 'Ada Lovelace',
    accountLabel: 'Wallet',
    maskedAccountNumber: '••4821',
    currency: 'USD',
    periodFrom: new Date(Date.UTC(2026, 10, 1)),
    periodTo: new Date(Date.UTC(2026, 10, 30)),
    openingBalanceMinor: opening,
    closingBalanceMinor: balance,
    lines,
    generatedAt: new Date(Date.UTC(2026, 11, 1)),
  };
}

describe('statement PDF', function () {
  this.timeout(30_000);
  const password = statementPassword('1990-12-10');

  it('derives the password from the date of birth as DDMMYYYY', () => {
    assert.equal(password, '10121990');
    assert.throws(() => statementPassword('10/12/1990'));
  });

  it('does not open without the password, nor with a wrong one', async () => {
    const pdf = await renderStatementPdf(statement(3), password);
    await assert.rejects(pdfLines(pdf), PdfPasswordError);
    await assert.rejects(pdfLines(pdf, '01011990'), PdfPasswordError);
  });

  it('is AES-256 encrypted and allows printing only', async () => {
    const pdf = await renderStatementPdf(statement(3), password);
    const raw = pdf.toString('latin1');
    assert.match(raw, /\/V 5/);
    assert.match(raw, /\/AESV3/);
    assert.doesNotMatch(raw, /Ada Lovelace/);
    // The permission bits (PDF 32000-1, table 22; bit n is 1 << (n - 1)): print (3) and
    // high-quality print (12) on; modify (4), copy (5), annotate (6) off.
    const permissions = Number(/\/P (-?\d+)/.exec(raw)?.[1]);
    const bit = (n: number) => (permissions & (1 << (n - 1))) !== 0;
    assert.deepEqual([3, 4, 5, 6, 12].map(bit), [true, false, false, false, true]);
  });

  it('holds every line with its date, description, debit, credit and running balance, between the opening and closing balances', async () => {
    const doc = statement(120);
    const pages = await pdfLines(await renderStatementPdf(doc, password), password);
    const body = pages.flat().filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    const expected = [
      `2026-11-01 Opening balance ${amount(doc.openingBalanceMinor)}`,
      ...doc.lines.map((l) => [l.postedAt.toISOString().slice(0, 10), l.description, amount(l.debitMinor), amount(l.creditMinor), amount(l.balanceAfterMinor)].filter(Boolean).join(' ')),
      `2026-11-30 Closing balance ${amount(doc.closingBalanceMinor)}`,
    ];
    assert.deepEqual(body, expected);
  });

  it('puts the header and "Page n of m" on every page', async () => {
    const pages = await pdfLines(await renderStatementPdf(statement(120), password), password);
    assert.ok(pages.length >= 3, `${pages.length} pages`);
    pages.forEach((lines, index) => {
      assert.equal(lines[0], 'Account statement');
      assert.ok(lines.includes('Ada Lovelace · Wallet ••4821 · USD'), lines.slice(0, 4).join(' | '));
      assert.ok(lines.includes('Period 2026-11-01 to 2026-11-30'));
      assert.ok(lines.includes('Date Description Debit Credit Balance'));
      assert.equal(lines.at(-1), `Page ${index + 1} of ${pages.length}`);
    });
  });
});

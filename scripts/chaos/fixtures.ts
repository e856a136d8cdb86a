import { createHash } from 'node:crypto';
import { swedishRentLines, textPdf, usUtilityLines } from '../../src/dev/demo-invoices';
import { composeMail, startLocalImap, type LocalImap } from '../../src/dev/imap';
import type { Prng } from './prng';

/**
 * What the later product lines of the load are fed: a mailbox server with one folder of
 * invoices per customer who connects one, partner CSV files of card events, and the
 * phones of campaign contacts. Each fixture knows what its effects must be, so the checks
 * compare the system with it.
 */

export const IMAP_USER = 'chaos';
export const IMAP_PASSWORD = 'chaos-mailbox-secret';

export interface ChaosMailbox {
  imap: LocalImap;
  /** Folders no customer has connected yet, each with the SHA-256 of the PDFs it holds. */
  free: Array<{ folder: string; pdfHashes: string[] }>;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/**
 * An IMAP server (hoodiecrow-imap, in the harness's own process, so no fault touches it)
 * with `folders` folders, each holding a BrightGrid bill finflow can pay, a Swedish rent
 * invoice and a letter no template reads, numbered so that no two folders hold the same
 * document.
 */
export async function startChaosMailbox(folders: number, seed: number): Promise<ChaosMailbox> {
  const contents = new Map<string, { messages: string[]; pdfHashes: string[] }>();
  for (let i = 0; i < folders; i++) {
    const n = (seed % 5_000) * folders + i + 1;
    const pdfs = [
      { name: `brightgrid-${n}.pdf`, bytes: await textPdf(usUtilityLines(n)) },
      { name: `hyra-${n}.pdf`, bytes: await textPdf(swedishRentLines(n % 800)) },
      { name: `letter-${n}.pdf`, bytes: await textPdf([`Dear customer ${n}, thank you for your letter.`]) },
    ];
    const messages = await Promise.all(pdfs.map((pdf) => composeMail({ subject: pdf.name, attachments: [{ filename: pdf.name, content: pdf.bytes, contentType: 'application/pdf' }] })));
    contents.set(`chaos-${i}`, { messages, pdfHashes: pdfs.map((pdf) => sha256(pdf.bytes)) });
  }
  const imap = await startLocalImap({
    username: IMAP_USER,
    password: IMAP_PASSWORD,
    folders: { INBOX: { messages: [] }, ...Object.fromEntries([...contents].map(([folder, { messages }]) => [folder, { uidValidity: 77, messages }])) },
  });
  return { imap, free: [...contents].map(([folder, { pdfHashes }]) => ({ folder, pdfHashes })) };
}

/** One courier event a file carries: the card, and its time as the courier wrote it and as an instant. */
export interface CardEventRow {
  cardId: string;
  at: string;
}

export interface CardFile {
  partner: 'courier-pickup';
  content: string;
  /** The file's id: the SHA-256 of its bytes. */
  fileId: string;
  rows: number;
  rejected: number;
  events: CardEventRow[];
  /** Card numbers planted in rows that must be refused, and never stored anywhere. */
  pans: string[];
}

/** A 16-digit number that passes the Luhn check: what the cards line must never store. */
export function luhnPan(prng: Prng): string {
  const digits = [4, ...Array.from({ length: 14 }, () => prng.int(0, 9))];
  const sum = digits
    .slice()
    .reverse()
    .reduce((acc, d, i) => acc + (i % 2 === 0 ? (d * 2 > 9 ? d * 2 - 9 : d * 2) : d), 0);
  return [...digits, (10 - (sum % 10)) % 10].join('');
}

/**
 * A `courier-pickup` file (docs/cards.md): a few cards picked up, sometimes one row
 * repeated (a duplicate event), sometimes a row holding a card number or a phone that is
 * not one (rejected with their line numbers). Card ids and times come from the seed.
 */
export function cardFile(prng: Prng): CardFile {
  const lines = ['ID,Card ID,User Mobile,Timestamp'];
  const events: CardEventRow[] = [];
  const pans: string[] = [];
  let rejected = 0;
  const count = prng.int(2, 8);
  for (let i = 0; i < count; i++) {
    const cardId = `CHAOS-${prng.int(0, 0xffffff).toString(16).padStart(6, '0')}-${prng.int(0, 0xffffff).toString(16).padStart(6, '0')}`;
    const day = String(prng.int(1, 28)).padStart(2, '0');
    const at = `${day}-11-2026 ${String(prng.int(0, 23)).padStart(2, '0')}:${String(prng.int(0, 59)).padStart(2, '0')}`;
    lines.push(`${lines.length},${cardId},50${prng.int(1_000_000, 9_999_999)},${at}`);
    events.push({ cardId, at });
    // The same event again in the file: recorded once, counted as a duplicate.
    if (prng.next() < 0.2) lines.push(`${lines.length},${cardId},50${prng.int(1_000_000, 9_999_999)},${at}`);
  }
  if (prng.next() < 0.5) {
    const pan = luhnPan(prng);
    pans.push(pan);
    lines.push(`${lines.length},${pan},501234567,14-11-2026 10:00`);
    rejected += 1;
  }
  if (prng.next() < 0.3) {
    lines.push(`${lines.length},CHAOS-BADPHONE-${prng.int(0, 999_999)},12,14-11-2026 10:00`);
    rejected += 1;
  }
  const content = `${lines.join('\r\n')}\r\n`;
  return { partner: 'courier-pickup', content, fileId: sha256(content), rows: lines.length - 1, rejected, events, pans };
}

/**
 * Campaign contacts' phones: a block of numbers drawn once per run from its seed and
 * handed out in order, so two contacts never share a phone (contacts are keyed by it).
 * A few end in 0002, which the SMS sandbox fails once before accepting.
 */
export function contactPhones(seed: number): () => string {
  let next = 2_000_000 + (seed % 700) * 10_000;
  return () => {
    next += 1;
    // The sandbox scripts …0001, …0003 and …0004 (rejections, undelivered): skip them.
    while (['0001', '0003', '0004'].includes(String(next).slice(-4))) next += 1;
    return `+1415${next}`;
  };
}

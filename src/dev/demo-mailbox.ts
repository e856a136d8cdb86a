import type { AppContext } from '../api/core/context';
import { invoicePortsOf } from '../api/me/mailbox/service';
import { startIngestion } from '../api/invoices/service';
import { findMailbox, saveMailbox } from '../invoices/mailboxes';
import { ensureInvoiceSchedule } from '../invoices/schedule';
import type { Logger } from '../logger';
import { germanInvoiceLines, swedishRentLines, textPdf, usUtilityLines } from './demo-invoices';
import { DEMO_ACCOUNTS } from './seed';
import { composeMail, startLocalImap, type LocalImap } from './imap';

/**
 * `npm start`'s demo mailbox: an IMAP server (hoodiecrow-imap, in memory, 127.0.0.1 only)
 * holding a rent invoice, a utility bill, a German invoice, a letter no template reads
 * and a photo, connected to the demo customer, whose first fetch starts at once. The
 * server is new at every start with the same UIDVALIDITY, so nothing is fetched twice.
 */

export const DEMO_MAILBOX = { username: 'dana', password: 'Demo-Mailbox-2026', uidValidity: 2026 } as const;

export async function startDemoMailbox(port: number): Promise<LocalImap> {
  const mail = async (from: string, subject: string, filename: string, lines: string[]) =>
    composeMail({ from, subject, attachments: [{ filename, content: await textPdf(lines), contentType: 'application/pdf' }] });
  const messages = [
    await mail('faktura@ekhagen.example', 'Hyresavi december', 'Hyresavi december 2026.pdf', swedishRentLines()),
    await mail('billing@brightgrid.example', 'Your BrightGrid bill', 'BrightGrid-bill.pdf', usUtilityLines()),
    await mail('rechnung@stadtwerke.example', 'Ihre Rechnung', 'Rechnung Nr. R-000000.pdf', germanInvoiceLines()),
    await mail('hello@shop.example', 'Thanks for your order', 'order-confirmation.pdf', ['Thank you for your order!']),
    await composeMail({ from: 'friend@example.com', subject: 'Holiday photo', attachments: [{ filename: 'beach.png', content: Buffer.from('not really a picture'), contentType: 'image/png' }] }),
  ];
  return startLocalImap({ username: DEMO_MAILBOX.username, password: DEMO_MAILBOX.password, port, folders: { INBOX: { uidValidity: DEMO_MAILBOX.uidValidity, messages } } });
}

/** Connects the demo customer's mailbox (once) and fetches it now; the weekday Schedule does the rest. */
export async function connectDemoMailbox(app: AppContext, imap: LocalImap, logger: Logger): Promise<void> {
  if (app.config.env !== 'development') return;
  const { db } = app.deps;
  const demo: { id: string } | undefined = await db('users').where({ email: DEMO_ACCOUNTS.customer.email }).first('id');
  if (!demo) return;
  if (!(await findMailbox(db, demo.id))) {
    const settings = { host: imap.host, port: imap.port, tls: false, username: DEMO_MAILBOX.username, password: DEMO_MAILBOX.password, folder: 'INBOX', timezone: 'Europe/Stockholm' };
    await saveMailbox(db, demo.id, settings, invoicePortsOf(app).secrets, app.deps.now());
    await ensureInvoiceSchedule(app.deps.temporal, app.config.dependencyTimeoutMs, demo.id, settings.timezone);
  }
  const ingestion = await startIngestion(app, demo.id);
  logger.info({ ingestionId: ingestion.id }, 'demo mailbox connected; fetching its invoices');
}

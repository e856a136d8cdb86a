import { readFile } from 'node:fs/promises';
import { messageReference } from '../../src/campaigns/repository';
import { userPrefix } from '../../src/providers/storage/port';
import type { Check } from './checks';
import type { Expectation, Issued } from './operations';
import { byKind, requestRows, rowsOf } from './rows';

/**
 * The checks of the later product lines: statements, invoices, card files and campaigns.
 * Each compares the system, once settled, with what the harness fed it (the request's
 * workflow, or the `expect` of operations.ts: the PDFs in a mailbox, the rows of a file,
 * the consent of each contact).
 */

/** The expectations of one line, from the requests the client saw succeed. */
function expected<L extends Expectation['line']>(issued: Issued[], line: L): Array<Extract<Expectation, { line: L }>> {
  return issued.filter((i) => i.outcome === 'succeeded' && i.expect?.line === line).map((i) => i.expect as Extract<Expectation, { line: L }>);
}

export const LINE_CHECKS: Check[] = [
  {
    name: 'each statement asked for made once, ready (stored, one SMS) or failed with its reason',
    async run({ db, issued, storage }) {
      const { problems, rows } = await requestRows(db, 'statements', byKind(issued, 'statement'), 'statement');
      const links = await rowsOf<{ dedupe_key: string; n: string }>(db, `
        select s.workflow_id || ':link' as dedupe_key, count(n.id) as n from statements s
          left join notifications n on n.dedupe_key = s.workflow_id || ':link' and n.template = 'statement_link'
         where s.source = 'api' group by s.workflow_id, s.status
        having count(n.id) <> case s.status when 'ready' then 1 else 0 end`);
      problems.push(...links.map((l) => `statement ${l.dedupe_key}: ${l.n} link messages`));
      for (const row of rows.values()) {
        if (row.status !== 'ready') continue;
        if (!row.object_key || !(await storage?.head(row.object_key))) problems.push(`statement ${row.workflow_id}: ready but its PDF ${row.object_key} is not stored`);
      }
      return problems;
    },
  },
  {
    name: 'each invoice PDF stored once, none lost, each invoice paid at most once',
    async run({ db, issued, storage }) {
      const problems: string[] = [];
      for (const box of expected(issued, 'mailbox')) {
        const invoices = await rowsOf<{ content_hash: string; object_key: string }>(db, 'select content_hash, object_key from invoices where user_id = ?', [box.userId]);
        const stored = new Set(invoices.map((i) => i.content_hash));
        for (const hash of box.pdfHashes) if (!stored.has(hash)) problems.push(`mailbox of ${box.userId}: PDF ${hash.slice(0, 12)} was never stored`);
        if (invoices.length !== box.pdfHashes.length) problems.push(`mailbox of ${box.userId}: ${invoices.length} invoices for ${box.pdfHashes.length} PDFs`);
        const objects = storage ? await storage.list(`${userPrefix(box.userId)}invoices/`, { limit: 1_000 }) : [];
        const keys = new Set(invoices.map((i) => i.object_key));
        if (storage && (objects.length !== keys.size || objects.some((o) => !keys.has(o.key)))) {
          problems.push(`mailbox of ${box.userId}: ${objects.length} objects stored for ${keys.size} invoices`);
        }
        const [open] = await rowsOf<{ n: string }>(db, "select count(*) as n from invoice_ingestions where user_id = ? and status = 'processing'", [box.userId]);
        if (open?.n !== '0') problems.push(`mailbox of ${box.userId}: ${open?.n} fetches still processing`);
      }
      // An invoice names its one payment (workflowIds.payment(user, invoicePaymentKey(invoice))); no other payment of that key exists.
      const paid = await rowsOf<{ id: string; user_id: string; payment_id: string | null; payments: string; linked: string }>(db, `
        select i.id, i.user_id, i.payment_id, count(p.id) as payments, count(p.id) filter (where p.id = i.payment_id) as linked
          from invoices i left join payments p on p.workflow_id = 'payment:' || i.user_id || ':invoice:' || i.id
         group by i.id having count(p.id) > 1 or (i.payment_id is not null and count(p.id) filter (where p.id = i.payment_id) <> 1)`);
      problems.push(...paid.map((p) => `invoice ${p.id}: ${p.payments} payments, ${p.linked} the one it names (${p.payment_id})`));
      return problems;
    },
  },
  {
    name: 'each card event recorded once, file counts add up, no card number stored',
    async run({ db, issued, logFiles }) {
      const problems: string[] = [];
      const files = new Map(expected(issued, 'card_file').map((e) => [e.file.fileId, e.file]));
      for (const file of files.values()) {
        const [row] = await rowsOf<Record<string, string>>(db, `
          select f.status, f.rows_total, f.accepted, f.rejected, f.duplicates,
                 (select count(*) from card_events e where e.file_id = f.id) as events,
                 (select count(*) from card_file_rejects r where r.file_id = f.id) as rejects
            from card_files f where f.id = ?`, [file.fileId]);
        const label = `card file ${file.fileId.slice(0, 12)}`;
        if (!row) {
          problems.push(`${label}: accepted but not recorded`);
          continue;
        }
        if (row.status !== 'completed') problems.push(`${label}: ${row.status}`);
        if (Number(row.rows_total) !== file.rows || Number(row.rejected) !== file.rejected) problems.push(`${label}: ${row.rows_total} rows, ${row.rejected} rejected; the file has ${file.rows} rows, ${file.rejected} to reject`);
        if (Number(row.rows_total) !== Number(row.accepted) + Number(row.rejected) + Number(row.duplicates)) problems.push(`${label}: ${row.rows_total} rows ≠ ${row.accepted} accepted + ${row.rejected} rejected + ${row.duplicates} duplicates`);
        if (row.events !== row.accepted || row.rejects !== row.rejected) problems.push(`${label}: ${row.events} events and ${row.rejects} rejects kept for ${row.accepted} accepted and ${row.rejected} rejected`);
      }
      const cards = [...new Set([...files.values()].flatMap((f) => f.events.map((e) => e.cardId)))];
      const counts = cards.length === 0 ? [] : await rowsOf<{ card_id: string; n: string }>(db, 'select card_id, count(*) as n from card_events where card_id = any(?) group by card_id', [cards]);
      const byCard = new Map(counts.map((c) => [c.card_id, Number(c.n)]));
      for (const card of cards) if (byCard.get(card) !== 1) problems.push(`card ${card}: ${byCard.get(card) ?? 0} events recorded for its one pickup`);
      problems.push(...(await cardNumbersFound(db, issued, logFiles ?? [])));
      return problems;
    },
  },
  {
    name: 'each campaign messaged every consenting contact once, and no one else',
    async run({ db, issued }) {
      const problems: string[] = [];
      for (const campaign of expected(issued, 'campaign')) {
        const [row] = await rowsOf<{ status: string }>(db, 'select status from campaigns where id = ?', [campaign.campaignId]);
        if (row?.status !== 'completed') problems.push(`campaign ${campaign.campaignId}: ${row?.status ?? 'missing'} after the system settled`);
        const phones = [...campaign.consenting, ...campaign.notConsenting];
        const messages = await rowsOf<{ phone: string; contact_id: string; status: string | null; sends: number | null }>(db, `
          select c.phone, c.id as contact_id, m.status, s.sends from contacts c
            left join campaign_messages m on m.contact_id = c.id and m.campaign_id = ?
            left join sandbox_sms_messages s on s.reference = 'campaign:' || ? || ':' || c.id
           where c.phone = any(?)`, [campaign.campaignId, campaign.campaignId, phones]);
        for (const m of messages) {
          const consenting = campaign.consenting.includes(m.phone);
          const sent = m.status === 'sent' || m.status === 'delivered' || m.status === 'read';
          if (consenting && (!sent || m.sends !== 1)) problems.push(`${messageReference(campaign.campaignId, m.contact_id)}: consenting, ${m.status ?? 'no message'}, sent ${m.sends ?? 0} times`);
          if (!consenting && m.sends !== null) problems.push(`${messageReference(campaign.campaignId, m.contact_id)}: no consent, yet sent`);
        }
        if (messages.length !== phones.length) problems.push(`campaign ${campaign.campaignId}: ${messages.length} of its ${phones.length} contacts exist`);
      }
      return problems;
    },
  },
];

/** Card numbers the load planted, found in any cards table or any process's log. */
async function cardNumbersFound(db: Parameters<Check['run']>[0]['db'], issued: Issued[], logFiles: string[]): Promise<string[]> {
  const pans = [...new Set(issued.flatMap((i) => (i.expect?.line === 'card_file' ? i.expect.file.pans : [])))];
  if (pans.length === 0) return [];
  const problems: string[] = [];
  const [stored] = await rowsOf<{ n: string }>(db, `
    select (select count(*) from card_file_rejects where raw like any(?))
         + (select count(*) from card_events where card_id = any(?) or comment like any(?))
         + (select count(*) from cards where card_id = any(?)) as n`, [pans.map((p) => `%${p}%`), pans, pans.map((p) => `%${p}%`), pans]);
  if (stored?.n !== '0') problems.push(`${stored?.n} rows of the cards tables hold a card number`);
  for (const file of logFiles) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const found = pans.filter((pan) => text.includes(pan));
    if (found.length > 0) problems.push(`${file}: holds ${found.length} card numbers`);
  }
  return problems;
}

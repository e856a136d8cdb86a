import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Db } from '../../src/db/knex';
import { formatLocalDate, localDateOf, localDateTimeOf } from '../../src/payments/recurring/period';
import { scheduleIds, workflowIds } from '../../src/temporal/names';
import type { Answer, ChaosClient, Outcome, RequestSpec } from './client';
import { cardFile, IMAP_PASSWORD, IMAP_USER, type CardFile, type ChaosMailbox } from './fixtures';
import type { Prng } from './prng';

/**
 * The load, as a table of operation kinds: how often each is drawn (`weight`), how it is
 * issued through the API (`issue`), and how its effects are checked once the system has
 * settled (`check`, in checks.ts by kind). A product line that lands adds one entry.
 */

export interface Customer {
  userId: string;
  email: string;
  phone: string;
  token: string;
  walletId: string;
  savingsId: string;
  cardId: string;
}

/**
 * What a request's effects must be, beyond its row, for the lines whose checks compare
 * the system with what the harness fed it (checks.ts by `line`).
 */
export type Expectation =
  | { line: 'mailbox'; userId: string; pdfHashes: string[] }
  | { line: 'card_file'; file: CardFile }
  | { line: 'campaign'; campaignId: string; consenting: string[]; notConsenting: string[] };

/** What the client finally saw for one request, and what identifies its effects. */
export interface Issued {
  kind: string;
  outcome: Outcome;
  status: number | null;
  /** The workflow the request starts (derived from its Idempotency-Key), whose effects the checks find. */
  workflowId?: string;
  /** Recurring payments: the id, so the checks count its payments per period. */
  recurringPaymentId?: string;
  /** The business id the API answered with, when it answered. */
  id?: string;
  expect?: Expectation;
}

/** What the clients share during a run: the mailboxes still free, connected customers, files sent. */
export interface LoadState {
  mailbox?: ChaosMailbox;
  /** Customers given a mailbox (or being given one). */
  mailboxOwners: Set<string>;
  /** Customers whose mailbox is connected and fetched: they have invoices to pay. */
  mailboxCustomers: Customer[];
  cardFiles: CardFile[];
  nextContactPhone: () => string;
}

export interface LoadContext {
  client: ChaosClient;
  temporal: Client;
  db: Db;
  serviceToken: string;
  /** An operator's access token (campaigns are an operator's work). */
  operatorToken: string;
  customers: Customer[];
  state: LoadState;
  prng: Prng;
}

export interface OperationKind {
  name: string;
  weight: number;
  issue(ctx: LoadContext): Promise<Issued | undefined>;
}

const FUNDING_TOKENS = ['tok_success', 'tok_success', 'tok_decline', 'tok_timeout_then_success', 'tok_unknown_outcome'] as const;
/** Sandbox biller scripts (docs/payments.md): accepted, declined, timeout then accepted, unknown then accepted, unknown customer. */
const BILLER_SCRIPTS = ['55', '55', '01', '02', '03', '00'] as const;
const BILLER = 'brightgrid-power';

const amount = (ctx: LoadContext, min: number, max: number) => String(ctx.prng.int(min, max));

function pickTwo(ctx: LoadContext): [Customer, Customer] | undefined {
  if (ctx.customers.length < 2) return undefined;
  const a = ctx.prng.pick(ctx.customers);
  let b = ctx.prng.pick(ctx.customers);
  while (b === a) b = ctx.prng.pick(ctx.customers);
  return [a, b];
}

const bodyId = (answer: Answer) => (answer.body as { id?: string } | null)?.id;

/** A request of the load: the path (and the route's template, when the path carries ids), who sends it and what. */
interface LoadRequest {
  method?: RequestSpec['method'];
  path: string;
  route?: string;
  token?: string;
  body?: unknown;
  rawBody?: RequestSpec['rawBody'];
}

/**
 * Sends one request with an Idempotency-Key of its own and answers what the client saw,
 * with the workflow the key starts (`workflowOf`) and the id the API answered.
 */
async function submit(ctx: LoadContext, kind: string, request: LoadRequest, workflowOf?: (key: string) => string): Promise<Issued & { answer: Answer }> {
  const key = randomUUID();
  const answer = await ctx.client.send({ method: request.method ?? 'POST', route: request.route ?? request.path, idempotencyKey: key, ...request });
  return { kind, outcome: answer.outcome, status: answer.status, ...(workflowOf ? { workflowId: workflowOf(key) } : {}), id: bodyId(answer), answer };
}

/** The Issued record without the answer it was read from. */
const issued = ({ answer: _answer, ...rest }: Issued & { answer: Answer }): Issued => rest;

export const OPERATIONS: OperationKind[] = [
  {
    name: 'signup',
    weight: 1,
    async issue(ctx) {
      const customer = await signUpCustomer(ctx);
      return { kind: 'signup', outcome: customer ? 'succeeded' : 'unknown', status: null, id: customer?.userId };
    },
  },
  {
    name: 'funding',
    weight: 5,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const source = { type: 'card', token: ctx.prng.pick(FUNDING_TOKENS) };
      const body = { accountId: c.walletId, amount: amount(ctx, 1_000, 50_000), currency: 'USD', source };
      return issued(await submit(ctx, 'funding', { path: '/v1/wallet/fund', token: c.token, body }, (key) => workflowIds.walletFunding(c.userId, key)));
    },
  },
  {
    name: 'transfer',
    weight: 4,
    async issue(ctx) {
      const pair = pickTwo(ctx);
      if (!pair) return undefined;
      const [from, to] = pair;
      const body = { fromAccountId: from.walletId, to: ctx.prng.int(0, 1) === 0 ? { email: to.email } : { phone: to.phone }, amount: amount(ctx, 100, 8_000), currency: 'USD', note: 'chaos' };
      return issued(await submit(ctx, 'transfer', { path: '/v1/transfers', token: from.token, body }, (key) => workflowIds.customerTransfer(from.userId, key)));
    },
  },
  {
    name: 'bill_payment',
    weight: 4,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const body = { billerId: BILLER, customerRef: `48201937${ctx.prng.pick(BILLER_SCRIPTS)}`, amount: amount(ctx, 500, 6_000), fromAccountId: c.walletId };
      return issued(await submit(ctx, 'bill_payment', { path: '/v1/payments', token: c.token, body }, (key) => workflowIds.payment(c.userId, key)));
    },
  },
  {
    name: 'card_payment',
    weight: 2,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const request = { path: `/v1/accounts/${c.cardId}/payments`, route: '/v1/accounts/:cardId/payments', token: c.token, body: { fromAccountId: c.savingsId, amount: amount(ctx, 100, 3_000) } };
      return issued(await submit(ctx, 'card_payment', request, (key) => workflowIds.payment(c.userId, key)));
    },
  },
  {
    name: 'bank_posting',
    weight: 3,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      // Salary into savings, card purchases on the card (some beyond its limit), fees from the wallet.
      const choice = ctx.prng.pick([
        { accountId: c.savingsId, direction: 'credit', code: 'salary', amount: amount(ctx, 1_000, 20_000) },
        { accountId: c.cardId, direction: 'debit', code: 'card_purchase', amount: amount(ctx, 100, 30_000) },
        { accountId: c.walletId, direction: 'debit', code: 'fee', amount: amount(ctx, 10, 500) },
      ] as const);
      const request = {
        path: `/internal/v1/accounts/${choice.accountId}/postings`,
        route: '/internal/v1/accounts/:accountId/postings',
        token: ctx.serviceToken,
        body: { direction: choice.direction, amount: choice.amount, currency: 'USD', code: choice.code, description: 'chaos posting' },
      };
      return issued(await submit(ctx, 'bank_posting', request, (key) => workflowIds.bankPosting(key)));
    },
  },
  {
    name: 'recurring_payment',
    weight: 1,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      // A zone where 09:00 today has passed, so today's period is paid at once (triggerImmediately).
      const timezone = zoneAfterNine();
      const body = { billerId: BILLER, customerRef: `48201937${ctx.prng.pick(['55', '55', '01'])}`, amount: amount(ctx, 500, 3_000), fromAccountId: c.walletId, frequency: 'monthly', startDate: formatLocalDate(localDateOf(new Date(), timezone)), timezone };
      const sent = await submit(ctx, 'recurring_payment', { path: '/v1/recurring-payments', token: c.token, body });
      // A backfill over today's fire time: the same period runs again and must find it paid.
      if (sent.id) await backfillToday(ctx.temporal, sent.id).catch(() => undefined);
      return { ...issued(sent), recurringPaymentId: sent.id };
    },
  },
  {
    name: 'statement',
    weight: 2,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const accountId = ctx.prng.pick([c.walletId, c.savingsId, c.cardId]);
      const now = Date.now();
      const body = ctx.prng.next() < 0.7 ? { lastN: ctx.prng.int(1, 20) } : { from: new Date(now - ctx.prng.int(1, 48) * 3_600_000).toISOString(), to: new Date(now).toISOString() };
      const request = { path: `/v1/accounts/${accountId}/statements`, route: '/v1/accounts/:id/statements', token: c.token, body };
      return issued(await submit(ctx, 'statement', request, (key) => workflowIds.statement(c.userId, key)));
    },
  },
  {
    name: 'mailbox',
    weight: 1,
    async issue(ctx) {
      const { state } = ctx;
      const candidates = ctx.customers.filter((c) => !state.mailboxOwners.has(c.userId));
      const box = state.mailbox?.free.pop();
      if (!box || !state.mailbox || candidates.length === 0) return undefined;
      const c = ctx.prng.pick(candidates);
      state.mailboxOwners.add(c.userId);
      const { host, port } = state.mailbox.imap;
      const body = { host, port, tls: false, username: IMAP_USER, password: IMAP_PASSWORD, folder: box.folder, timezone: 'UTC' };
      const saved = await submit(ctx, 'mailbox', { method: 'PUT', path: '/v1/me/mailbox', token: c.token, body });
      if (saved.outcome !== 'succeeded') return issued(saved);
      // Sometimes asked twice at once: one fetch of a mailbox runs at a time, and is the answer to both.
      const fetch = () => submit(ctx, 'mailbox', { path: '/v1/invoices/ingest', token: c.token });
      const [first, second] = await Promise.all([fetch(), ctx.prng.next() < 0.3 ? fetch() : undefined]);
      const fetched = first.outcome === 'succeeded' || !second ? first : second;
      if (fetched.outcome === 'succeeded') state.mailboxCustomers.push(c);
      return { ...issued(fetched), expect: { line: 'mailbox', userId: c.userId, pdfHashes: box.pdfHashes } };
    },
  },
  {
    name: 'invoice_payment',
    weight: 1,
    async issue(ctx) {
      if (ctx.state.mailboxCustomers.length === 0) return undefined;
      const c = ctx.prng.pick(ctx.state.mailboxCustomers);
      const list = await ctx.client.send<{ data?: Array<{ id: string; billerId: string | null }> }>({ method: 'GET', path: '/v1/invoices?status=parsed', route: '/v1/invoices', token: c.token });
      const payable = (list.body?.data ?? []).filter((invoice) => invoice.billerId);
      if (payable.length === 0) return undefined;
      const invoice = ctx.prng.pick(payable);
      const request = { path: `/v1/invoices/${invoice.id}/pay`, route: '/v1/invoices/:id/pay', token: c.token, body: { fromAccountId: c.walletId } };
      // The invoice is the payment's key: asked again with another Idempotency-Key, it is the same payment.
      return issued(await submit(ctx, 'invoice_payment', request, () => workflowIds.payment(c.userId, workflowIds.invoicePaymentKey(invoice.id))));
    },
  },
  {
    name: 'card_file',
    weight: 2,
    async issue(ctx) {
      const { cardFiles } = ctx.state;
      // One file in four is one sent before, byte for byte: the same file, ingested once.
      const again = cardFiles.length > 0 && ctx.prng.next() < 0.25;
      const file = again ? ctx.prng.pick(cardFiles) : cardFile(ctx.prng);
      if (!again) cardFiles.push(file);
      const request = { path: `/internal/v1/card-files?partner=${file.partner}`, route: '/internal/v1/card-files', token: ctx.serviceToken, rawBody: { contentType: 'text/csv', data: file.content } };
      return { ...issued(await submit(ctx, 'card_file', request, () => workflowIds.cardFile(file.fileId))), expect: { line: 'card_file', file } };
    },
  },
  {
    name: 'campaign',
    weight: 1,
    async issue(ctx) {
      const token = ctx.operatorToken;
      const run = randomUUID();
      const contacts = Array.from({ length: ctx.prng.int(2, 6) }, () => ({ phone: ctx.state.nextContactPhone(), consent: ctx.prng.pick(['opt_in', 'opt_in', 'opt_in', 'opt_out', 'pending'] as const) }));
      for (const { phone, consent } of contacts) {
        const body = { phone, timezone: 'UTC', attributes: { run, first_name: 'Chaos' }, ...(consent === 'pending' ? {} : { consent: { sms: { status: consent } } }) };
        const saved = await submit(ctx, 'campaign', { path: '/v1/contacts', token, body });
        if (saved.outcome !== 'succeeded') return issued(saved);
      }
      const template = await submit(ctx, 'campaign', { path: '/v1/templates', token, body: { name: `chaos ${run}`, channel: 'sms', body: 'Hi {{ first_name }}, chaos says hello.', placeholders: ['first_name'] } });
      const segment = await submit(ctx, 'campaign', { path: '/v1/segments', token, body: { name: `chaos ${run}`, filters: [{ path: 'run', op: 'eq', value: run }] } });
      if (!template.id || !segment.id) return issued(template.id ? segment : template);
      const campaign = await submit(ctx, 'campaign', { path: '/v1/campaigns', token, body: { name: `chaos ${run}`, templateId: template.id, segmentId: segment.id, channel: 'sms' } });
      const campaignId = campaign.id;
      if (!campaignId) return issued(campaign);
      const launch = await submit(ctx, 'campaign', { path: `/v1/campaigns/${campaignId}/launch`, route: '/v1/campaigns/:id/launch', token }, () => workflowIds.campaignRollout(campaignId));
      const phones = (wanted: boolean) => contacts.filter((c) => (c.consent === 'opt_in') === wanted).map((c) => c.phone);
      return { ...issued(launch), id: campaignId, expect: { line: 'campaign', campaignId, consenting: phones(true), notConsenting: phones(false) } };
    },
  },
];

function zoneAfterNine(): string {
  const zones = Array.from({ length: 27 }, (_, i) => i - 12).map((offset) => (offset <= 0 ? `Etc/GMT+${-offset}` : `Etc/GMT-${offset}`));
  return zones.find((zone) => {
    const { hour } = localDateTimeOf(new Date(), zone);
    return hour >= 10 && hour <= 22;
  }) as string;
}

async function backfillToday(temporal: Client, recurringPaymentId: string): Promise<void> {
  const now = Date.now();
  await temporal.schedule.getHandle(scheduleIds.recurringPayment(recurringPaymentId)).backfill({ start: new Date(now - 24 * 3600_000), end: new Date(now), overlap: 'ALLOW_ALL' });
}

/**
 * A customer through the API: signup, login, the email verified with the code from the
 * outbox (as an operator reads it in the sandbox), and from the bank side a savings
 * account with a salary in it and a credit card. Undefined when a step got no answer.
 */
export async function signUpCustomer(ctx: LoadContext): Promise<Customer | undefined> {
  const { client } = ctx;
  const email = `${randomUUID()}@chaos.example`;
  const password = 'correct horse battery staple';
  const phone = `+1415${ctx.prng.int(200, 999)}${ctx.prng.int(1000, 9999)}`;
  const signup = await client.send({ method: 'POST', path: '/v1/auth/signup', route: '/v1/auth/signup', idempotencyKey: randomUUID(), body: { email, password, name: 'Chaos Customer', phone, dateOfBirth: '1990-12-10' } });
  // A repeated signup whose first attempt did create the user answers 409: the login decides.
  if (signup.outcome === 'unknown') return undefined;
  const login = await client.send<{ accessToken: string }>({ method: 'POST', path: '/v1/auth/login', route: '/v1/auth/login', body: { email, password }, idempotencyKey: randomUUID() });
  if (login.outcome !== 'succeeded') return undefined;
  const token = login.body.accessToken;
  const userId = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')).sub as string;
  const sent = await client.send({ method: 'POST', path: '/v1/me/verifications', route: '/v1/me/verifications', token, body: { channel: 'email' } });
  if (sent.outcome !== 'succeeded') return undefined;
  const pending: { id: string } | undefined = await ctx.db('contact_verifications').where({ user_id: userId, channel: 'email' }).orderBy('created_at', 'desc').first('id');
  const message: { body: string } | undefined = pending ? await ctx.db('notifications').where({ dedupe_key: `verification:${pending.id}` }).first('body') : undefined;
  const code = /\b(\d{6})\b/.exec(message?.body ?? '')?.[1];
  if (!code) return undefined;
  const confirmed = await client.send({ method: 'POST', path: '/v1/me/verifications/confirm', route: '/v1/me/verifications/confirm', token, body: { channel: 'email', code } });
  if (confirmed.outcome !== 'succeeded') return undefined;
  const accounts = await client.send<{ data: Array<{ id: string; type: string }> }>({ method: 'GET', path: '/v1/accounts', route: '/v1/accounts', token });
  const walletId = accounts.body?.data?.find((a) => a.type === 'wallet')?.id;
  const open = (type: 'savings' | 'credit_card') =>
    client.send<{ id: string }>({
      method: 'POST', path: `/internal/v1/users/${userId}/accounts`, route: '/internal/v1/users/:userId/accounts', token: ctx.serviceToken, idempotencyKey: `${userId}:${type}`,
      body: { type, currency: 'USD', ...(type === 'credit_card' ? { creditLimit: '50000' } : {}) },
    });
  const [savings, card] = [await open('savings'), await open('credit_card')];
  if (!walletId || savings.outcome !== 'succeeded' || card.outcome !== 'succeeded') return undefined;
  return { userId, email, phone, token, walletId, savingsId: savings.body.id, cardId: card.body.id };
}

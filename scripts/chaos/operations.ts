import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Db } from '../../src/db/knex';
import { formatLocalDate, localDateOf, localDateTimeOf } from '../../src/payments/recurring/period';
import { scheduleIds, workflowIds } from '../../src/temporal/names';
import type { Answer, ChaosClient, Outcome } from './client';
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

/** What the client finally saw for one money-moving request, and what identifies its effects. */
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
}

export interface LoadContext {
  client: ChaosClient;
  temporal: Client;
  db: Db;
  serviceToken: string;
  customers: Customer[];
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
      const key = randomUUID();
      const token = ctx.prng.pick(FUNDING_TOKENS);
      const answer = await ctx.client.send({
        method: 'POST', path: '/v1/wallet/fund', route: '/v1/wallet/fund', token: c.token, idempotencyKey: key,
        body: { accountId: c.walletId, amount: amount(ctx, 1_000, 50_000), currency: 'USD', source: { type: 'card', token } },
      });
      return { kind: 'funding', outcome: answer.outcome, status: answer.status, workflowId: workflowIds.walletFunding(c.userId, key), id: bodyId(answer) };
    },
  },
  {
    name: 'transfer',
    weight: 4,
    async issue(ctx) {
      const pair = pickTwo(ctx);
      if (!pair) return undefined;
      const [from, to] = pair;
      const key = randomUUID();
      const answer = await ctx.client.send({
        method: 'POST', path: '/v1/transfers', route: '/v1/transfers', token: from.token, idempotencyKey: key,
        body: { fromAccountId: from.walletId, to: ctx.prng.int(0, 1) === 0 ? { email: to.email } : { phone: to.phone }, amount: amount(ctx, 100, 8_000), currency: 'USD', note: 'chaos' },
      });
      return { kind: 'transfer', outcome: answer.outcome, status: answer.status, workflowId: workflowIds.customerTransfer(from.userId, key), id: bodyId(answer) };
    },
  },
  {
    name: 'bill_payment',
    weight: 4,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const key = randomUUID();
      const answer = await ctx.client.send({
        method: 'POST', path: '/v1/payments', route: '/v1/payments', token: c.token, idempotencyKey: key,
        body: { billerId: BILLER, customerRef: `48201937${ctx.prng.pick(BILLER_SCRIPTS)}`, amount: amount(ctx, 500, 6_000), fromAccountId: c.walletId },
      });
      return { kind: 'bill_payment', outcome: answer.outcome, status: answer.status, workflowId: workflowIds.payment(c.userId, key), id: bodyId(answer) };
    },
  },
  {
    name: 'card_payment',
    weight: 2,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const key = randomUUID();
      const answer = await ctx.client.send({
        method: 'POST', path: `/v1/accounts/${c.cardId}/payments`, route: '/v1/accounts/:cardId/payments', token: c.token, idempotencyKey: key,
        body: { fromAccountId: c.savingsId, amount: amount(ctx, 100, 3_000) },
      });
      return { kind: 'card_payment', outcome: answer.outcome, status: answer.status, workflowId: workflowIds.payment(c.userId, key), id: bodyId(answer) };
    },
  },
  {
    name: 'bank_posting',
    weight: 3,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      const key = randomUUID();
      // Salary into savings, card purchases on the card (some beyond its limit), fees from the wallet.
      const choice = ctx.prng.pick([
        { accountId: c.savingsId, direction: 'credit', code: 'salary', amount: amount(ctx, 1_000, 20_000) },
        { accountId: c.cardId, direction: 'debit', code: 'card_purchase', amount: amount(ctx, 100, 30_000) },
        { accountId: c.walletId, direction: 'debit', code: 'fee', amount: amount(ctx, 10, 500) },
      ] as const);
      const answer = await ctx.client.send({
        method: 'POST', path: `/internal/v1/accounts/${choice.accountId}/postings`, route: '/internal/v1/accounts/:accountId/postings', token: ctx.serviceToken, idempotencyKey: key,
        body: { direction: choice.direction, amount: choice.amount, currency: 'USD', code: choice.code, description: 'chaos posting' },
      });
      return { kind: 'bank_posting', outcome: answer.outcome, status: answer.status, workflowId: workflowIds.bankPosting(key), id: bodyId(answer) };
    },
  },
  {
    name: 'recurring_payment',
    weight: 1,
    async issue(ctx) {
      const c = ctx.prng.pick(ctx.customers);
      // A zone where 09:00 today has passed, so today's period is paid at once (triggerImmediately).
      const timezone = zoneAfterNine();
      const answer = await ctx.client.send({
        method: 'POST', path: '/v1/recurring-payments', route: '/v1/recurring-payments', token: c.token, idempotencyKey: randomUUID(),
        body: { billerId: BILLER, customerRef: `48201937${ctx.prng.pick(['55', '55', '01'])}`, amount: amount(ctx, 500, 3_000), fromAccountId: c.walletId, frequency: 'monthly', startDate: formatLocalDate(localDateOf(new Date(), timezone)), timezone },
      });
      const id = bodyId(answer);
      // A backfill over today's fire time: the same period runs again and must find it paid.
      if (id) await backfillToday(ctx.temporal, id).catch(() => undefined);
      return { kind: 'recurring_payment', outcome: answer.outcome, status: answer.status, recurringPaymentId: id, id };
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

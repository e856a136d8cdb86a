import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createUser } from '../../src/api/auth/service';
import type { AppContext } from '../../src/api/core/context';
import type { Db } from '../../src/db/knex';
import { request, type HttpResponse } from './http';
import { testConfig } from './services';
import { createLedger } from '../../src/ledger/service';

/** Signing up and logging in through the API, for e2e tests of every resource. */

export interface SignupRequest {
  email: string;
  password: string;
  name: string;
  phone: string;
  dateOfBirth: string;
  referralCode?: string;
}

export interface PresentedUser {
  id: string;
  email: string;
  name: string;
  phone: string;
  dateOfBirth: string;
  role: 'customer' | 'operator';
  emailVerified: boolean;
  phoneVerified: boolean;
  createdAt: string;
}

export interface SignedUp {
  user: PresentedUser;
  email: string;
  password: string;
}

export interface SignedIn extends SignedUp {
  accessToken: string;
  refreshToken: string;
}

/** A valid signup body with a unique email; override any field. */
export function signupRequest(overrides: Partial<SignupRequest> = {}): SignupRequest {
  return {
    email: `${randomUUID()}@example.com`,
    password: 'correct horse battery staple',
    name: 'Ada Lovelace',
    phone: '+14155550123',
    dateOfBirth: '1990-12-10',
    ...overrides,
  };
}

function expectStatus(res: HttpResponse, status: number, what: string): void {
  if (res.status !== status) throw new Error(`${what} answered ${res.status}: ${JSON.stringify(res.body)}`);
}

export async function signUp(baseUrl: string, overrides: Partial<SignupRequest> = {}): Promise<SignedUp> {
  const body = signupRequest(overrides);
  const res = await request<PresentedUser>(baseUrl, 'POST', '/v1/auth/signup', { body });
  expectStatus(res, 201, 'signup');
  return { user: res.body, email: body.email, password: body.password };
}

export async function logIn(baseUrl: string, email: string, password: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await request(baseUrl, 'POST', '/v1/auth/login', { body: { email, password } });
  expectStatus(res, 200, 'login');
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

export async function signUpAndLogin(baseUrl: string, overrides: Partial<SignupRequest> = {}): Promise<SignedIn> {
  const signedUp = await signUp(baseUrl, overrides);
  return { ...signedUp, ...(await logIn(baseUrl, signedUp.email, signedUp.password)) };
}

/**
 * An operator, created the way the dev seed does (operators cannot sign up), then
 * logged in through the API. `db` must be the database the API at `baseUrl` uses.
 */
export async function createOperator(baseUrl: string, db: Db, overrides: Partial<SignupRequest> = {}): Promise<SignedIn> {
  const details = signupRequest({ name: 'Olive Operator', ...overrides });
  const app: AppContext = {
    config: testConfig(),
    // Operators have no onboarding workflow, so Temporal is never called.
    deps: { db, temporal: undefined as never, logger: pino({ level: 'silent' }), ledger: createLedger(db), billers: undefined as never, notifier: undefined as never, now: () => new Date() },
  };
  const user = await createUser(app, details, 'operator');
  const tokens = await logIn(baseUrl, details.email, details.password);
  return { user, email: details.email, password: details.password, ...tokens };
}

/**
 * Sends a fresh code to the signed-in user's email or phone through the API and
 * confirms it with the code read from the outbox, as an operator would read it in the
 * sandbox. `db` must be the database the API at `baseUrl` uses.
 */
export async function verifyContact(baseUrl: string, db: Db, accessToken: string, channel: 'email' | 'phone'): Promise<PresentedUser> {
  const sent = await request(baseUrl, 'POST', '/v1/me/verifications', { token: accessToken, body: { channel } });
  expectStatus(sent, 202, `verification (${channel})`);
  const code = await outboxCode(db, accessToken, channel);
  const confirmed = await request<PresentedUser>(baseUrl, 'POST', '/v1/me/verifications/confirm', { token: accessToken, body: { channel, code } });
  expectStatus(confirmed, 200, `confirm (${channel})`);
  return confirmed.body;
}

/** The code of the user's outstanding verification, from the outbox message that carried it. */
export async function outboxCode(db: Db, accessToken: string, channel: 'email' | 'phone'): Promise<string> {
  const userId = JSON.parse(Buffer.from(accessToken.split('.')[1] ?? '', 'base64url').toString('utf8')).sub as string;
  const pending: { id: string } | undefined = await db('contact_verifications').where({ user_id: userId, channel }).first('id');
  if (!pending) throw new Error(`no outstanding ${channel} verification for ${userId}`);
  const message: { body: string } | undefined = await db('notifications').where({ dedupe_key: `verification:${pending.id}` }).first('body');
  const code = /\b(\d{6})\b/.exec(message?.body ?? '')?.[1];
  if (!code) throw new Error(`no code in the outbox for verification ${pending.id}`);
  return code;
}

/** Signs up and logs in a customer whose email (and, with `phone`, phone) is verified, so they can receive transfers. */
export async function signUpVerified(baseUrl: string, db: Db, overrides: Partial<SignupRequest> = {}, channels: Array<'email' | 'phone'> = ['email']): Promise<SignedIn> {
  const signedIn = await signUpAndLogin(baseUrl, overrides);
  let user = signedIn.user;
  for (const channel of channels) user = await verifyContact(baseUrl, db, signedIn.accessToken, channel);
  return { ...signedIn, user };
}

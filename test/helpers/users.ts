import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { createUser } from '../../src/api/auth/service';
import type { AppContext } from '../../src/api/context';
import type { Db } from '../../src/db/knex';
import { request, type HttpResponse } from './http';
import { testConfig } from './services';

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
    deps: { db, temporal: undefined as never, logger: pino({ level: 'silent' }), billers: undefined as never, now: () => new Date() },
  };
  const user = await createUser(app, details, 'operator');
  const tokens = await logIn(baseUrl, details.email, details.password);
  return { user, email: details.email, password: details.password, ...tokens };
}

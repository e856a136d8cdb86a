import type { AppContext } from '../core/context';
import { problems } from '../core/errors';
import { currentUserId } from '../core/middleware/auth';
import { route, type RouteSpec } from '../core/route';
import { findMailbox } from '../../invoices/mailboxes';
import { ProblemSchema } from '../core/openapi';
import { EraseMeBody, ErasureSchema, requestErasure } from './erasure';
import { findUser } from '../auth/service';
import { DashboardSchema, MeSchema, PreferencesSchema } from './schema';
import { dashboardOf, preferencesOf, setSmsAlerts } from './service';

/** The signed-in user, their dashboard and their notification preferences (`/v1/me/verifications` is in verifications/). */
export function meRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'get',
      path: '/v1/me',
      summary: 'The signed-in user.',
      tags: ['auth'],
      access: 'user',
      responses: { 200: { description: 'The signed-in user.', schema: MeSchema } },
      handler: async (ctx) => {
        const user = await findUser(app, currentUserId(ctx.state));
        // The token outlived its user (erased): the credential no longer stands for anyone.
        if (!user) throw problems.unauthenticated('The access token is invalid or expired.');
        ctx.body = { ...user, mailboxConnected: (await findMailbox(app.deps.db, user.id)) !== undefined };
      },
    }),
    route({
      method: 'delete',
      path: '/v1/me',
      summary: 'Erase yourself: every row and stored object that names you; ledger history stays, anonymised. Asks for your password again.',
      tags: ['auth'],
      access: 'customer',
      body: EraseMeBody,
      rules: [{ rule: 'reauthentication', in: 'body', field: 'password', code: 'wrong_password', description: "The password must be the customer's own (400)." }],
      responses: {
        202: { description: 'Erasing: the workflow `erasure:<id>` runs the listed steps; the result lists what each erased.', schema: ErasureSchema },
        400: { description: '`validation_error`: the password is wrong.', schema: ProblemSchema },
      },
      handler: async (ctx, { body }) => {
        ctx.status = 202;
        ctx.body = await requestErasure(app, currentUserId(ctx.state), body.password);
      },
    }),
    route({
      method: 'get',
      path: '/v1/me/dashboard',
      summary: 'Balances, recent activity, cashback earned and upcoming recurring payments.',
      tags: ['accounts'],
      access: 'customer',
      responses: { 200: { description: 'The dashboard.', schema: DashboardSchema } },
      handler: async (ctx) => {
        ctx.body = await dashboardOf(app, currentUserId(ctx.state));
      },
    }),
    route({
      method: 'get',
      path: '/v1/me/preferences',
      summary: "The caller's notification preferences.",
      tags: ['accounts'],
      access: 'customer',
      responses: { 200: { description: 'Preferences.', schema: PreferencesSchema } },
      handler: async (ctx) => {
        ctx.body = await preferencesOf(app, currentUserId(ctx.state));
      },
    }),
    route({
      method: 'put',
      path: '/v1/me/preferences',
      summary: 'Opt in or out of SMS transaction alerts.',
      tags: ['accounts'],
      access: 'customer',
      body: PreferencesSchema,
      responses: { 200: { description: 'The updated preferences.', schema: PreferencesSchema } },
      handler: async (ctx, { body }) => {
        await setSmsAlerts(app, currentUserId(ctx.state), body.smsAlerts);
        ctx.body = { smsAlerts: body.smsAlerts };
      },
    }),
  ];
}

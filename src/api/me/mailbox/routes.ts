import { currentUserId } from '../../core/middleware/auth';
import { ProblemSchema } from '../../core/openapi';
import { route, type RouteSpec } from '../../core/route';
import { RULES } from '../../core/unstated-rules';
import type { AppContext } from '../../core/context';
import { MailboxBody, MailboxSchema } from './schema';
import { FIELD_OF, connectMailbox, disconnectMailbox, presentMailbox, viewMailbox } from './service';

const NONE = { description: 'No mailbox connected (`not_found`).', schema: ProblemSchema };

/** The customer's invoice mailbox (docs/invoices.md): connect, show, remove. */
export function mailboxRoutes(app: AppContext): RouteSpec[] {
  return [
    route({
      method: 'put',
      path: '/v1/me/mailbox',
      summary: 'Connect (or replace) the mailbox invoices are fetched from. The server logs in first; the password is sealed at rest and never shown again.',
      tags: ['invoices'],
      access: 'customer',
      body: MailboxBody,
      responses: {
        201: { description: 'Connected; a Schedule fetches new invoices on weekdays at 08:30 in `timezone`.', schema: MailboxSchema },
        200: { description: 'Replaced.', schema: MailboxSchema },
        400: { description: '`validation_error`, e.g. an unknown timezone.', schema: ProblemSchema },
        422: {
          description:
            '`mailbox_connection_failed`: the login test failed; `errors[0].field` is what to fix and `errors[0].code` the cause (`authentication_failed`, `host_unreachable`, `tls_mismatch`, `folder_not_found`, `timeout`, `protocol_error`).',
          schema: ProblemSchema,
        },
      },
      // One entry per cause: the refusal names the field to fix and the cause as its code.
      rules: [
        RULES.timezone,
        ...Object.entries(FIELD_OF).map(([code, field]) => ({
          rule: 'mailbox-login',
          in: 'body' as const,
          field,
          code,
          description: `The mail server must accept the login and have the folder; otherwise 422 mailbox_connection_failed names ${field} with ${code}.`,
        })),
      ],
      handler: async (ctx, { body }) => {
        const { row, created } = await connectMailbox(app, currentUserId(ctx.state), body);
        ctx.status = created ? 201 : 200;
        ctx.set('Location', '/v1/me/mailbox');
        ctx.body = presentMailbox(row);
      },
    }),
    route({
      method: 'get',
      path: '/v1/me/mailbox',
      summary: 'The connected mailbox (never its password) and why the last fetch failed, if it did.',
      tags: ['invoices'],
      access: 'customer',
      responses: { 200: { description: 'The mailbox.', schema: MailboxSchema }, 404: NONE },
      handler: async (ctx) => {
        ctx.body = presentMailbox(await viewMailbox(app, currentUserId(ctx.state)));
      },
    }),
    route({
      method: 'delete',
      path: '/v1/me/mailbox',
      summary: 'Disconnect the mailbox: its sealed password and its Schedule are deleted; invoices already fetched stay.',
      tags: ['invoices'],
      access: 'customer',
      responses: { 204: { description: 'Disconnected.' }, 404: NONE },
      handler: async (ctx) => {
        await disconnectMailbox(app, currentUserId(ctx.state));
        ctx.status = 204;
      },
    }),
  ];
}

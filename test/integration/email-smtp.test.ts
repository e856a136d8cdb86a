import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { EmailSendError } from '../../src/providers/email/port';
import { createSandboxEmail } from '../../src/providers/email/sandbox';
import { createSmtpEmail } from '../../src/providers/email/smtp';
import { createNotifier } from '../../src/providers/notifier';
import { createSandboxSms } from '../../src/providers/sms/sandbox';
import type { Db } from '../../src/db/knex';
import { testDb } from '../helpers/services';

/**
 * The email port: the SMTP adapter (nodemailer) against a real SMTP server running in
 * this process (the smtp-server package), and the sandbox behind the outbox notifier.
 */

interface Received {
  from: string;
  to: string[];
  raw: string;
  user?: string;
}

describe('email port', function () {
  this.timeout(30_000);

  describe('SMTP adapter (nodemailer against smtp-server)', () => {
    let server: SMTPServer;
    let port: number;
    const received: Received[] = [];

    before(async () => {
      server = new SMTPServer({
        secure: false,
        disabledCommands: ['STARTTLS'],
        authOptional: true,
        onAuth(auth, _session, callback) {
          if (auth.username === 'finflow' && auth.password === 'mail-secret') return callback(null, { user: auth.username });
          return callback(new Error('Invalid username or password'));
        },
        onRcptTo(address, _session, callback) {
          if (address.address.endsWith('@refused.test')) {
            const err = new Error('mailbox unavailable') as Error & { responseCode: number };
            err.responseCode = 550;
            return callback(err);
          }
          return callback();
        },
        onData(stream, session: SMTPServerSession, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              raw: Buffer.concat(chunks).toString('utf8'),
              user: session.user as string | undefined,
            });
            callback();
          });
        },
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.server.address() as AddressInfo).port;
    });

    after(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    const smtp = (overrides: Partial<Parameters<typeof createSmtpEmail>[0]> = {}) =>
      createSmtpEmail({ host: '127.0.0.1', port, secure: false, user: 'finflow', password: 'mail-secret', from: 'finflow <no-reply@finflow.test>', ...overrides });

    it('delivers the message with its subject, text and reference header, signed in', async () => {
      const reference = `verification:${randomUUID()}`;
      const result = await smtp().send({ to: 'ada@example.com', subject: 'Your code', text: 'Your code is 123456.', reference });
      const mail = received.find((m) => m.raw.includes(reference));
      assert.ok(mail, 'the server received the message');
      assert.deepEqual([mail.from, mail.to, mail.user], ['no-reply@finflow.test', ['ada@example.com'], 'finflow']);
      assert.match(mail.raw, /Subject: Your code/);
      assert.match(mail.raw, /Your code is 123456\./);
      assert.ok(result.providerMessageId.length > 0);
    });

    it('fails for good (not retryable) when the server refuses the recipient', async () => {
      await assert.rejects(
        smtp().send({ to: 'nobody@refused.test', subject: 's', text: 't', reference: randomUUID() }),
        (err: unknown) => err instanceof EmailSendError && err.reason === 'rejected' && !err.retryable,
      );
    });

    it('fails for good on a wrong password', async () => {
      await assert.rejects(
        smtp({ password: 'wrong' }).send({ to: 'ada@example.com', subject: 's', text: 't', reference: randomUUID() }),
        (err: unknown) => err instanceof EmailSendError && err.reason === 'auth_failed' && !err.retryable,
      );
    });

    it('fails retryably when no server listens', async () => {
      await assert.rejects(
        smtp({ port: 1, timeoutMs: 2000 }).send({ to: 'ada@example.com', subject: 's', text: 't', reference: randomUUID() }),
        (err: unknown) => err instanceof EmailSendError && err.reason === 'unreachable' && err.retryable,
      );
    });
  });

  describe('sandbox behind the notifier', () => {
    let db: Db;
    before(async function () {
      this.timeout(120_000);
      db = await testDb();
    });

    it('records the email in the outbox as delivered by the sandbox', async () => {
      const notifier = createNotifier({ db, sms: createSandboxSms({ db }), email: createSandboxEmail({ db }) });
      const dedupeKey = `test:${randomUUID()}`;
      await notifier.send({ dedupeKey, userId: null, channel: 'email', recipient: 'ada@example.com', template: 'verification_code', body: 'code 123456' });
      const row = await db('notifications').where({ dedupe_key: dedupeKey }).first();
      assert.deepEqual([row.status, row.provider, row.attempts], ['delivered', 'sandbox', 1]);
    });
  });
});

import nodemailer from 'nodemailer';
import { EmailSendError, type EmailMessage, type EmailProvider, type EmailSendResult } from './port';

/**
 * Email over SMTP with nodemailer. The outbox reference travels as `X-Finflow-Reference`,
 * so a message found in a mailbox leads back to its outbox row. SMTP gives no delivery
 * receipt: the row ends at `sent`.
 */

/** Shorter than the provider activity's start-to-close timeout, so a hung call is retried. */
const TIMEOUT_MS = 10_000;

export interface SmtpEmailOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user?: string;
  password?: string;
  from: string;
  timeoutMs?: number;
}

export function createSmtpEmail(options: SmtpEmailOptions): EmailProvider {
  const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
  const transport = nodemailer.createTransport({
    host: options.host,
    port: options.port,
    secure: options.secure,
    auth: options.user ? { user: options.user, pass: options.password ?? '' } : undefined,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });

  return {
    name: 'smtp',
    async send(message: EmailMessage): Promise<EmailSendResult> {
      try {
        const info = await transport.sendMail({
          from: options.from,
          to: message.to,
          subject: message.subject,
          text: message.text,
          headers: { 'X-Finflow-Reference': message.reference },
        });
        if (info.rejected.length > 0) throw new EmailSendError('rejected', false, `the server refused ${message.to}`);
        return { providerMessageId: info.messageId };
      } catch (err) {
        throw toEmailSendError(err);
      }
    },
  };
}

/** Maps nodemailer's errors: a 5xx reply or refused login fails for good; anything else may pass later. */
export function toEmailSendError(err: unknown): EmailSendError {
  if (err instanceof EmailSendError) return err;
  const e = err as { code?: string; responseCode?: number; message?: string };
  const detail = e.message ?? String(err);
  if (e.code === 'EAUTH') return new EmailSendError('auth_failed', false, detail);
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) return new EmailSendError('rejected', false, detail);
  if (typeof e.responseCode === 'number') return new EmailSendError('provider_error', true, detail);
  return new EmailSendError('unreachable', true, detail);
}

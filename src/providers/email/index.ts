import type { Config } from '../../config';
import type { Db } from '../../db/knex';
import type { EmailProvider } from './port';
import { createSandboxEmail } from './sandbox';
import { createSmtpEmail } from './smtp';

export { EmailSendError, type EmailProvider, type EmailMessage, type EmailSendResult, type EmailFailureReason } from './port';

/** The email provider EMAIL_PROVIDER names; loadConfig has already checked the SMTP settings. */
export function createEmailProvider(config: Pick<Config, 'email'>, db: Db): EmailProvider {
  const { provider, smtp, from } = config.email;
  if (provider === 'sandbox') return createSandboxEmail({ db });
  if (!smtp.host) throw new Error('EMAIL_PROVIDER=smtp needs SMTP_HOST');
  return createSmtpEmail({ host: smtp.host, port: smtp.port, secure: smtp.secure, user: smtp.user, password: smtp.password, from });
}

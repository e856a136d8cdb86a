import { createHash } from 'node:crypto';
import type { Db } from '../../db/knex';
import { createOutbox } from '../outbox';
import type { EmailMessage, EmailProvider, EmailSendResult } from './port';

/**
 * The sandbox email provider: nothing leaves the machine. The outbox row the notifier
 * claimed is the message; the sandbox marks it delivered at once (found by its
 * reference, the dedupe key), so operators read it at GET /v1/operator/notifications,
 * verification codes included, exactly as the SMS sandbox does.
 */
export function createSandboxEmail({ db }: { db: Db }): EmailProvider {
  const outbox = createOutbox(db);
  return {
    name: 'sandbox',
    async send(message: EmailMessage): Promise<EmailSendResult> {
      const providerMessageId = `sandbox-email-${createHash('sha256').update(message.reference).digest('hex').slice(0, 32)}`;
      await outbox.applyReceipt({ dedupeKey: message.reference }, { status: 'delivered', provider: 'sandbox', providerMessageId });
      return { providerMessageId };
    },
  };
}

import { randomUUID } from 'node:crypto';
import type { Db } from '../db/knex';
import type { Notifier, OutboundMessage, SentMessage } from './notifier';

/** Records every message in the `notifications` table instead of sending it. */
export function createSandboxNotifier(db: Db): Notifier {
  return {
    async send(message: OutboundMessage): Promise<SentMessage> {
      const inserted = await db('notifications')
        .insert({
          id: randomUUID(),
          dedupe_key: message.dedupeKey,
          user_id: message.userId,
          channel: message.channel,
          recipient: message.recipient,
          template: message.template,
          body: message.body,
          status: 'sent',
        })
        .onConflict('dedupe_key')
        .ignore()
        .returning(['id', 'status']);
      const row = inserted[0] ?? (await db('notifications').where({ dedupe_key: message.dedupeKey }).first('id', 'status'));
      return { id: row.id, status: row.status, fresh: inserted.length === 1 };
    },
  };
}

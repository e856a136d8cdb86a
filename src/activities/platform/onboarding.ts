import { Context } from '@temporalio/activity';
import type { Db } from '../../db/knex';
import type { Notifier } from '../../providers/notifier';
import { businessFailure } from '../../temporal/failures';

/** Attempts before a missing customer counts as gone rather than not yet committed. */
const MISSING_CUSTOMER_ATTEMPTS = 4;

export interface SendWelcomeInput {
  customerId: string;
  /** `<workflowId>:welcome`: the notifier records one message per key. The idempotency key, under the name recorded histories carry. */
  dedupeKey: string;
  /** Send only to a verified phone (new onboarding runs); old histories omit it. */
  requireVerifiedPhone?: boolean;
}

export interface SendWelcomeResult {
  /** Null when the phone is not verified (it changed since it was): nothing was sent. */
  notificationId: string | null;
  fresh: boolean;
}

export function createOnboardingActivities({ db, notifier }: { db: Db; notifier: Notifier }) {
  return {
    async sendWelcome({ customerId, dedupeKey, requireVerifiedPhone = false }: SendWelcomeInput): Promise<SendWelcomeResult> {
      const user = await db('users').where({ id: customerId }).first('name', 'phone', 'phone_verified_at');
      if (!user) {
        // Signup starts this workflow inside the transaction that inserts the user, so
        // the first attempts may run before that commit is visible.
        if (Context.current().info.attempt < MISSING_CUSTOMER_ATTEMPTS) throw new Error(`customer ${customerId} not visible yet`);
        throw businessFailure('customer_not_found', `customer ${customerId} does not exist`);
      }
      if (requireVerifiedPhone && !user.phone_verified_at) return { notificationId: null, fresh: false };
      const firstName = String(user.name).split(/\s+/)[0];
      const sent = await notifier.send({
        dedupeKey,
        userId: customerId,
        channel: 'sms',
        recipient: user.phone,
        template: 'welcome',
        body: `Welcome to finflow, ${firstName}! Your account is ready.`,
      });
      return { notificationId: sent.id, fresh: sent.fresh };
    },
  };
}

import type { Db } from '../db/knex';
import { createNotifier, type Notifier } from './notifier';
import { createSandboxSms } from './sms/sandbox';

/**
 * The notifier over the sandbox SMS provider: every message lands in the `notifications`
 * outbox with a simulated delivery receipt, nothing leaves the machine. Kept for tests
 * and scripts that want the sandbox whatever the environment says.
 */
export function createSandboxNotifier(db: Db): Notifier {
  return createNotifier({ db, sms: createSandboxSms({ db }) });
}

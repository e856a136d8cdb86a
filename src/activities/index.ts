import type { Db } from '../db/knex';
import type { Notifier } from '../providers/notifier';
import { createHousekeepingActivities } from './housekeeping';
import { createOnboardingActivities } from './onboarding';

/** The ports every activity may use; the worker builds them from config, tests pass their own. */
export interface ActivityDeps {
  db: Db;
  notifier: Notifier;
  now: () => Date;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createOnboardingActivities(deps),
    ...createHousekeepingActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;

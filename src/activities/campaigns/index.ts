import type { Db } from '../../db/knex';
import type { SmsProvider } from '../../providers/sms';
import type { ObjectStorage } from '../../providers/storage/port';
import { createContactImportActivities } from './contact-import';
import { createRolloutActivities } from './rollout';
import { createSendBatchActivities, type CampaignSendSettings } from './send-batch';

/** The campaigns line's activities (docs/campaigns.md). */
export function createCampaignActivities(deps: {
  db: Db;
  sms?: SmsProvider;
  storage?: ObjectStorage;
  now: () => Date;
  campaignSend?: Partial<CampaignSendSettings>;
}) {
  return {
    ...createRolloutActivities(deps),
    ...createSendBatchActivities(deps),
    ...createContactImportActivities(deps),
  };
}

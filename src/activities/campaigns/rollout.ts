import type { Db } from '../../db/knex';
import { applySegment } from '../../campaigns/segments';
import { findCampaign, findSegment, type CampaignStatus } from '../../campaigns/repository';

/**
 * The rollout's bookkeeping: planning the audience (segment → queued messages, in one
 * statement) and moving the campaign's status. Sending is in send-batch.ts.
 */

export interface PlanResult {
  total: number;
  batchCount: number;
  batchSize: number;
}

/** Messages per batch (one child workflow, a few activity calls) unless settings say otherwise. */
export const DEFAULT_BATCH_SIZE = 1000;

/** Which statuses a control may move a campaign from: cancelled and completed are final. */
const MOVES: Record<'running' | 'paused' | 'cancelled' | 'completed', CampaignStatus[]> = {
  running: ['scheduled', 'planning', 'running', 'paused'],
  paused: ['scheduled', 'planning', 'running', 'paused'],
  cancelled: ['draft', 'scheduled', 'planning', 'running', 'paused', 'cancelled'],
  completed: ['running', 'completed'],
};

export function createRolloutActivities({ db, campaignSend }: { db: Db; campaignSend?: { batchSize?: number } }) {
  const batchSize = campaignSend?.batchSize ?? DEFAULT_BATCH_SIZE;
  const plan = (total: number): PlanResult => ({ total, batchCount: Math.ceil(total / batchSize), batchSize });
  return {
    /**
     * Queues one message per contact of the segment, numbered 1..total, in one
     * transaction with the campaign's `total`; a retry after it committed finds `total`
     * set and answers the same plan, so the audience is fixed once.
     */
    async planCampaign({ campaignId }: { campaignId: string }): Promise<PlanResult> {
      return db.transaction(async (trx) => {
        // One statement queues the whole audience: at a million contacts it outlasts the pool's default statement timeout.
        await trx.raw(`set local statement_timeout = '15min'`);
        const campaign = await findCampaign(trx, campaignId);
        if (!campaign) throw new Error(`campaign ${campaignId} not found`);
        if (campaign.total !== null) return plan(campaign.total);
        const segment = await findSegment(trx, campaign.segment_id);
        if (!segment) throw new Error(`segment ${campaign.segment_id} not found`);
        const audience = applySegment(trx('contacts').select(trx.raw('?::uuid', [campaignId]), trx.raw('row_number() over (order by contacts.id)'), 'contacts.id'), segment.filters);
        const { rowCount } = await trx.raw<{ rowCount: number }>('insert into campaign_messages (campaign_id, seq, contact_id) ?', [audience]);
        const total = rowCount ?? 0;
        await trx('campaigns')
          .where({ id: campaignId })
          .update({ total, planned_at: trx.raw('clock_timestamp()'), updated_at: trx.fn.now(), status: trx.raw(`case when status in ('scheduled', 'planning') then 'running' else status end`) });
        return plan(total);
      });
    },

    /** Moves the campaign's status where that is a legal move; answers the status it has after. */
    async setCampaignStatus({ campaignId, status }: { campaignId: string; status: keyof typeof MOVES }): Promise<CampaignStatus | undefined> {
      await db('campaigns')
        .where({ id: campaignId })
        .whereIn('status', MOVES[status])
        .update({ status, updated_at: db.fn.now(), ...(status === 'completed' ? { completed_at: db.fn.now() } : {}) });
      return (await findCampaign(db, campaignId))?.status;
    },
  };
}

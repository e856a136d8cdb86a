import type { Db } from '../../db/knex';
import { applySegment } from '../../campaigns/segments';
import type { Knex } from 'knex';
import { findCampaign, findSegment, type CampaignRow, type CampaignStatus } from '../../campaigns/repository';
import { heartbeat } from '../shared/heartbeat';

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
  /** The plan inside `trx`, the campaign's row locked first. */
  async function planIn(trx: Knex.Transaction, campaignId: string): Promise<PlanResult> {
    // One statement queues the whole audience: at a million contacts it outlasts the pool's default statement timeout.
    await trx.raw(`set local statement_timeout = '15min'`);
    const campaign = await trx('campaigns').where({ id: campaignId }).forUpdate().first<CampaignRow | undefined>();
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
  }

  return {
    /**
     * Queues one message per contact of the segment, numbered 1..total, in one
     * transaction with the campaign's `total`; a retry after it committed finds `total`
     * set and answers the same plan, so the audience is fixed once. The campaign's row is
     * locked first, so an attempt that starts while an earlier one still runs (its
     * worker thought dead) waits for it and then finds its plan. It heartbeats while the
     * statement runs: at a million contacts that takes tens of seconds.
     */
    async planCampaign({ campaignId }: { campaignId: string }): Promise<PlanResult> {
      const beating = setInterval(() => heartbeat(), 5_000);
      try {
        return await db.transaction((trx) => planIn(trx, campaignId));
      } finally {
        clearInterval(beating);
      }
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

import assert from 'node:assert/strict';
import { createRolloutActivities } from '../../src/activities/campaigns/rollout';
import type { Db } from '../../src/db/knex';
import { insertContacts, newRun, uniquePhone } from '../helpers/campaigns';
import { testDb } from '../helpers/services';

describe('campaign planning (PostgreSQL)', function () {
  this.timeout(60_000);
  let db: Db;

  before(async () => {
    db = await testDb();
  });

  /** A campaign in `planning` to a segment of `size` fresh contacts. */
  async function campaignOf(size: number): Promise<string> {
    const run = newRun();
    await insertContacts(db, Array.from({ length: size }, () => ({ phone: uniquePhone(), attributes: { run } })));
    const [template] = await db('campaign_templates').insert({ name: `plan ${run}`, channel: 'sms', body: 'Hello', placeholders: [] }).returning<Array<{ id: string }>>('id');
    const [segment] = await db('segments').insert({ name: `plan ${run}`, filters: JSON.stringify([{ path: 'run', op: 'eq', value: run }]) }).returning<Array<{ id: string }>>('id');
    const [campaign] = await db('campaigns')
      .insert({ name: `plan ${run}`, template_id: template!.id, segment_id: segment!.id, channel: 'sms', status: 'planning', launched_at: db.fn.now() })
      .returning<Array<{ id: string }>>('id');
    return campaign!.id;
  }

  it('queues the audience once when a second attempt starts while the first still runs', async () => {
    const campaignId = await campaignOf(250);
    const rollout = createRolloutActivities({ db, campaignSend: { batchSize: 100 } });
    // An attempt whose worker Temporal thought dead, and its retry, at once: the second
    // waits for the first's plan. A transaction of the test's holds the campaign's row
    // while both start, so that both are under way before either can commit.
    const holder = await db.transaction();
    await holder('campaigns').where({ id: campaignId }).forUpdate().first();
    const attempts = Promise.allSettled([rollout.planCampaign({ campaignId }), rollout.planCampaign({ campaignId })]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await holder.commit();
    const settled = await attempts;
    const [first, second] = settled.map((attempt) => (attempt.status === 'fulfilled' ? attempt.value : attempt.reason as Error));
    assert.deepEqual(first, { total: 250, batchCount: 3, batchSize: 100 });
    assert.deepEqual(second, first);
    const queued = await db('campaign_messages').where({ campaign_id: campaignId }).count<Array<{ n: string }>>({ n: '*' });
    assert.equal(Number(queued[0]?.n), 250);
    assert.equal((await db('campaigns').where({ id: campaignId }).first()).status, 'running');
  });
});

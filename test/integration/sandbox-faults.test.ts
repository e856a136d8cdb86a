import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { createSandboxFundingProcessor } from '../../src/providers/funding/sandbox';
import type { FundingProcessor } from '../../src/providers/funding/port';
import { createSandboxFaults, setSandboxFault, withSandboxFaults, type SandboxFault } from '../../src/providers/sandbox-faults';
import { SmsSendError } from '../../src/providers/sms/port';
import { appPorts, createPorts } from '../../src/worker/deps';
import { testConfig, testDb } from '../helpers/services';

/**
 * The sandboxes' run-time faults (src/providers/sandbox-faults.ts) on real PostgreSQL:
 * a `sandbox_faults` row makes a wrapped sandbox slow, fail at once or time out after its
 * call took effect; no row, or a row past its time, leaves it alone.
 */
describe('sandbox faults', () => {
  let db: Db;

  before(async function () {
    this.timeout(120_000);
    db = await testDb();
  });

  afterEach(async () => {
    await db('sandbox_faults').del();
  });

  const spell = (fault: Partial<SandboxFault>): SandboxFault => ({ provider: 'funding', mode: 'failure', latencyMs: 0, share: 1, until: new Date(Date.now() + 60_000), ...fault });
  const errors = { failure: (d: string) => new Error(`refused: ${d}`), timeout: (d: string) => new Error(`timed out: ${d}`) };
  const funding = (): FundingProcessor => withSandboxFaults(createSandboxFundingProcessor(db), 'funding', createSandboxFaults(db), errors, ['charge']);
  const charge = (processor: FundingProcessor, chargeId = `fault-test:${randomUUID()}:charge`) => processor.charge({ chargeId, amountMinor: 1_000n, currency: 'USD', source: { type: 'card', token: 'tok_success' } });
  const recorded = async (chargeId: string) => (await db('sandbox_funding_charges').where({ charge_id: chargeId })).length;

  it('leaves the sandbox alone with no fault switched on', async () => {
    assert.equal((await charge(funding())).status, 'succeeded');
  });

  it('fails a call at once, without its effect, under a failure spell', async () => {
    await setSandboxFault(db, spell({ mode: 'failure' }));
    const chargeId = `fault-test:${randomUUID()}:charge`;
    await assert.rejects(charge(funding(), chargeId), /refused: sandbox funding: injected failure/);
    assert.equal(await recorded(chargeId), 0);
  });

  it('fails a call after its effect under a timeout spell, so the retry finds it done', async () => {
    await setSandboxFault(db, spell({ mode: 'timeout', latencyMs: 50 }));
    const chargeId = `fault-test:${randomUUID()}:charge`;
    await assert.rejects(charge(funding(), chargeId), /timed out: sandbox funding: injected timeout after 50 ms/);
    assert.equal(await recorded(chargeId), 1);
  });

  it('delays every call by the spell latency, then answers', async () => {
    await setSandboxFault(db, spell({ mode: 'latency', latencyMs: 400 }));
    const started = Date.now();
    assert.equal((await charge(funding())).status, 'succeeded');
    assert.ok(Date.now() - started >= 400, `answered after ${Date.now() - started} ms`);
  });

  it('ignores a spell whose time is over', async () => {
    await setSandboxFault(db, spell({ mode: 'failure', until: new Date(Date.now() - 1_000) }));
    assert.equal((await charge(funding())).status, 'succeeded');
  });

  it('hits only the provider the spell names', async () => {
    await setSandboxFault(db, spell({ provider: 'sms', mode: 'failure' }));
    assert.equal((await charge(funding())).status, 'succeeded');
  });

  it('fails an SMS as a retryable provider error, as the real adapters do', async () => {
    await setSandboxFault(db, spell({ provider: 'sms', mode: 'failure' }));
    const ports = createPorts({ ...testConfig(), sandboxFaults: true }, { db });
    await assert.rejects(ports.sms.send({ to: '+14155550123', body: 'hello', reference: `fault-test:${randomUUID()}` }), (err: unknown) => err instanceof SmsSendError && err.retryable && err.reason === 'provider_error');
  });

  it('wraps no port when SANDBOX_FAULTS is off', async () => {
    await setSandboxFault(db, spell({ provider: 'billers', mode: 'failure' }));
    const { billers } = appPorts(createPorts(testConfig(), { db }));
    assert.equal(Object.getPrototypeOf(billers), Object.prototype);
  });

  it('reads the table at most once a second per process', async () => {
    let clock = Date.now();
    const faults = createSandboxFaults(db, { now: () => clock });
    assert.equal(await faults.current('sms'), undefined);
    await setSandboxFault(db, spell({ provider: 'sms', mode: 'failure' }));
    const within = await faults.current('sms');
    clock += 1_001;
    assert.deepEqual([within, (await faults.current('sms'))?.mode], [undefined, 'failure']);
  });
});

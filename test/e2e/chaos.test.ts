import assert from 'node:assert/strict';
import { printResult, runChaos, type ChaosResult } from '../../scripts/chaos/run';

/**
 * The short chaos run (docs/reliability.md): about two minutes of seeded load over four
 * worker and two API processes while workers are killed every ~2.5 s (SIGKILL), an API is
 * killed now and then, Temporal and PostgreSQL are each restarted at least once and the
 * sandbox providers turn slow, failing or timing out for spells; then every invariant of
 * scripts/chaos/checks.ts. CHAOS_SEED replays a failed run.
 */
describe('chaos: kill anything, lose nothing (e2e, separate processes)', function () {
  // Two minutes of load, then settling (up to 6 min without progress, see run.ts) and the checks.
  this.timeout(15 * 60_000);
  let result: ChaosResult;
  const lines: string[] = [];

  before(async function () {
    const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : Math.floor(Math.random() * 2 ** 31);
    result = await runChaos({ minutes: 2, seed, faults: true, workers: 4, apis: 2, clients: 4, workerKillEveryMs: 2_500, log: (line) => lines.push(line) });
    printResult(result);
  });

  it('kills a worker at least 20 times and restarts Temporal and PostgreSQL', () => {
    assert.ok(result.kills.worker >= 20, `only ${result.kills.worker} worker kills (seed ${result.seed})`);
    assert.ok(result.restarts.temporal >= 1 && result.restarts.postgres >= 1, JSON.stringify(result.restarts));
  });

  it('moves money of every kind under the faults', () => {
    for (const kind of ['funding', 'transfer', 'bill_payment', 'card_payment', 'bank_posting']) {
      assert.ok((result.operations[kind]?.succeeded ?? 0) > 0, `no ${kind} succeeded (seed ${result.seed})`);
    }
  });

  it('asks for statements, fetches mailboxes, uploads card files and launches campaigns under the faults', () => {
    for (const kind of ['statement', 'mailbox', 'card_file', 'campaign']) {
      assert.ok((result.operations[kind]?.succeeded ?? 0) > 0, `no ${kind} succeeded (seed ${result.seed})`);
    }
  });

  it('makes the sandbox providers slow, fail or time out', () => {
    assert.ok(Object.values(result.providerFaults).reduce((sum, n) => sum + n, 0) >= 1, `no slow-provider spell (seed ${result.seed})`);
  });

  it('holds every invariant once the system has settled', () => {
    const [first] = result.violations;
    assert.deepEqual(result.violations, [], `seed ${result.seed}: first violated check [${first?.check}] ${first?.detail}\n${lines.join('\n')}`);
  });
});

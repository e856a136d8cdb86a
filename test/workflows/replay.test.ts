import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../src/worker/create-worker';

/**
 * Every recorded history under histories/ must replay against the current workflow
 * code: a change that would break running workflows fails here, and must use
 * `patched()` or a new workflow type instead. Record new ones with
 * `npx tsx scripts/record-histories.ts`.
 */
const HISTORY_DIR = join(__dirname, 'histories');
const histories = readdirSync(HISTORY_DIR).filter((f) => f.endsWith('.json'));

describe('workflow replay', function () {
  this.timeout(120_000);

  it('has recorded histories to replay', () => {
    assert.ok(histories.length > 0);
  });

  for (const file of histories) {
    it(`replays ${file} against the current code`, async () => {
      const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8'));
      await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH }, history, file);
    });
  }

  it('detects an incompatible change to onboarding', async () => {
    const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, 'onboarding-v1.json'), 'utf8'));
    await assert.rejects(
      Worker.runReplayHistory({ workflowsPath: require.resolve('./fixtures/onboarding-reordered') }, history, 'reordered'),
      DeterminismViolationError,
    );
  });
});

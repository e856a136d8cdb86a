import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import type { Payload } from '@temporalio/common';
import { DeterminismViolationError } from '@temporalio/workflow';
import { Worker } from '@temporalio/worker';
import { createPayloadCodec, isEncrypted } from '../../src/temporal/codec';
import { dataConverter } from '../../src/temporal/client';
import { testConfig, workflowBundle } from '../helpers/services';

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

  // Workers run with the payload codec; recorded histories hold unencoded payloads,
  // which the codec passes through, so each one replays on a worker configured as in production.
  const codecConfig = testConfig().temporal;
  for (const file of histories) {
    it(`replays ${file} against the current code`, async () => {
      const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: dataConverter(codecConfig) }, history, file);
    });
  }

  /** A recorded history with every payload sealed by the codec, as the server stores it now. */
  async function sealedHistory(file: string) {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8')));
    const codec = createPayloadCodec(codecConfig.payloadCodec);
    const payloads: Array<{ holder: Record<string, unknown>; key: string }> = [];
    const pending: unknown[] = [history];
    while (pending.length > 0) {
      const node = pending.pop();
      if (node === null || typeof node !== 'object' || ArrayBuffer.isView(node)) continue;
      for (const [key, child] of Object.entries(node)) {
        // Search attributes stay in clear (Temporal indexes them); the codec never sees them.
        if (key === 'searchAttributes') continue;
        const looksLikePayload = (v: unknown) =>
          v !== null && typeof v === 'object' && 'metadata' in v && (v as { metadata?: Record<string, unknown> }).metadata?.encoding instanceof Uint8Array;
        if (looksLikePayload(child)) payloads.push({ holder: node as Record<string, unknown>, key });
        else pending.push(child);
      }
    }
    for (const { holder, key } of payloads) holder[key] = (await codec.encode([holder[key] as Payload]))[0];
    assert.ok(payloads.length > 0 && payloads.every(({ holder, key }) => isEncrypted(holder[key] as Payload)));
    return history;
  }

  it('replays a history whose payloads the codec sealed', async () => {
    const history = await sealedHistory('wallet-funding-v1.json');
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: dataConverter(codecConfig) }, history, 'sealed');
  });

  it('cannot replay a sealed history without the codec', async () => {
    const history = await sealedHistory('wallet-funding-v1.json');
    await assert.rejects(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, 'sealed-without-codec'));
  });

  it('detects an incompatible change to onboarding', async () => {
    const history: unknown = JSON.parse(readFileSync(join(HISTORY_DIR, 'onboarding-v1.json'), 'utf8'));
    await assert.rejects(
      Worker.runReplayHistory({ workflowsPath: require.resolve('./fixtures/onboarding-reordered') }, history, 'reordered'),
      DeterminismViolationError,
    );
  });
});

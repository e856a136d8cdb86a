import assert from 'node:assert/strict';
import { groupCommit } from '../../src/db/group-commit';

/** src/db/group-commit.ts: one write at a time, carrying whatever arrived meanwhile. */
describe('groupCommit', () => {
  /** A write that records each batch it was given and holds until released. */
  function recorder() {
    const batches: string[][] = [];
    let release: () => void = () => undefined;
    const write = async (items: string[]) => {
      batches.push(items);
      await new Promise<void>((resolve) => (release = resolve));
      return items.map((item) => `${item}!`);
    };
    return { batches, write, release: () => release() };
  }

  it('carries the items that arrive while a write runs in the next write, together', async () => {
    const r = recorder();
    const send = groupCommit(r.write, (item) => item);
    const first = send('a');
    const rest = [send('b'), send('c')];
    r.release();
    await first;
    r.release();
    assert.deepEqual([await first, ...(await Promise.all(rest)), r.batches], ['a!', 'b!', 'c!', [['a'], ['b', 'c']]]);
  });

  it('puts two items with one key in separate writes', async () => {
    const r = recorder();
    const send = groupCommit(r.write, (item) => item.slice(0, 1));
    const first = send('a1');
    const rest = [send('b1'), send('a2'), send('b2')];
    for (let i = 0; i < 3; i++) {
      r.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all([first, ...rest]);
    assert.deepEqual(r.batches, [['a1'], ['b1', 'a2'], ['b2']]);
  });

  it('rejects every item of a failed write and goes on with the next', async () => {
    let calls = 0;
    const send = groupCommit(async (items: string[]) => {
      calls++;
      if (calls === 1) throw new Error('write failed');
      return items;
    }, (item) => item);
    const failed = send('a');
    await assert.rejects(failed, /write failed/);
    assert.equal(await send('b'), 'b');
  });
});

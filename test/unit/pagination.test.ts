import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ProblemError } from '../../src/api/core/errors';
import { PageQuery, decodeCursor, encodeCursor } from '../../src/api/core/pagination';

/** The cursor is opaque to clients but must survive the trip, and anything else is a 400 naming `cursor`. */

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

function assertInvalidCursor(cursor: string): void {
  assert.throws(
    () => decodeCursor(cursor),
    (err: unknown) => {
      assert.ok(err instanceof ProblemError, `threw ${String(err)}`);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'validation_error');
      assert.deepEqual(
        err.errors.map((e) => [e.in, e.field]),
        [['query', 'cursor']],
      );
      return true;
    },
  );
}

describe('pagination', () => {
  describe('cursor', () => {
    it('decodes to the position it encodes', () => {
      const position = { createdAt: new Date('2026-03-01T12:34:56.789Z').toISOString(), id: randomUUID() };
      assert.deepEqual(decodeCursor(encodeCursor(position)), position);
    });

    it('round-trips positions that differ only in id', () => {
      const createdAt = new Date().toISOString();
      const [a, b] = [randomUUID(), randomUUID()];
      assert.notEqual(encodeCursor({ createdAt, id: a }), encodeCursor({ createdAt, id: b }));
      assert.equal(decodeCursor(encodeCursor({ createdAt, id: b })).id, b);
    });

    it('is URL-safe, so it needs no escaping in ?cursor=', () => {
      for (let i = 0; i < 50; i++) {
        const cursor = encodeCursor({ createdAt: new Date(Date.now() - i * 997_331).toISOString(), id: randomUUID() });
        assert.match(cursor, /^[A-Za-z0-9_-]+$/);
      }
    });

    it('fits the 200 characters the query schema allows', () => {
      const cursor = encodeCursor({ createdAt: new Date().toISOString(), id: randomUUID() });
      assert.equal(PageQuery.safeParse({ cursor }).success, true);
    });

    const valid = () => encodeCursor({ createdAt: '2026-03-01T12:34:56.789Z', id: randomUUID() });
    const tampered: Array<[string, () => string]> = [
      ['text that is not base64url JSON', () => 'not-a-cursor'],
      ['the empty string', () => ''],
      ['a truncated cursor', () => valid().slice(0, -6)],
      ['a cursor with a character flipped', () => {
        const cursor = valid();
        return `${cursor.slice(0, 3)}${cursor[3] === 'A' ? 'B' : 'A'}${cursor.slice(4)}`;
      }],
      ['a JSON object instead of a position', () => b64(JSON.stringify({ createdAt: '2026-03-01T12:34:56.789Z', id: randomUUID() }))],
      ['a position with an extra element', () => b64(JSON.stringify(['2026-03-01T12:34:56.789Z', randomUUID(), 'x']))],
      ['a position with a missing id', () => b64(JSON.stringify(['2026-03-01T12:34:56.789Z']))],
      ['a position with swapped elements', () => b64(JSON.stringify([randomUUID(), '2026-03-01T12:34:56.789Z']))],
      ['a timestamp that is not a date', () => b64(JSON.stringify(['yesterday', randomUUID()]))],
      ['a timestamp that JavaScript parses but is not ISO 8601', () => b64(JSON.stringify(['1', randomUUID()]))],
      ['an impossible calendar date', () => b64(JSON.stringify(['2026-13-45T99:00:00.000Z', randomUUID()]))],
      ['a numeric timestamp', () => b64(JSON.stringify([Date.now(), randomUUID()]))],
      ['an id that is not a UUID', () => b64(JSON.stringify(['2026-03-01T12:34:56.789Z', 'abc']))],
      ['an id carrying SQL', () => b64(JSON.stringify(['2026-03-01T12:34:56.789Z', "x') or 1=1 --"]))],
    ];
    for (const [what, make] of tampered) {
      it(`rejects ${what} with a 400 naming cursor`, () => {
        assertInvalidCursor(make());
      });
    }
  });

  describe('PageQuery', () => {
    it('defaults limit to 20', () => {
      assert.deepEqual(PageQuery.parse({}), { limit: 20 });
    });

    it('coerces a numeric limit from the query string', () => {
      assert.equal(PageQuery.parse({ limit: '100' }).limit, 100);
    });

    for (const limit of ['0', '101', 'abc', '1.5', '-1']) {
      it(`rejects limit=${limit}, naming limit`, () => {
        const result = PageQuery.safeParse({ limit });
        assert.equal(result.success, false);
        assert.deepEqual(result.error?.issues.map((i) => i.path.join('.')), ['limit']);
      });
    }
  });
});

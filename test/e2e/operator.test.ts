import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/knex';
import { encodeCursor } from '../../src/api/core/pagination';
import { client, type HttpResponse } from '../helpers/http';
import { stack, type Stack } from '../helpers/services';
import { createOperator, verifyContact, signUpAndLogin, type SignedIn } from '../helpers/users';
import { eventually } from '../helpers/wait';

/**
 * The operator's view of the sandbox outbox. Pagination is tested on rows inserted
 * here for a user of their own, dated in 2001 so they sort below every real message,
 * with created_at values chosen to share seconds, milliseconds and whole timestamps.
 */

interface Notification {
  id: string;
  userId: string | null;
  channel: 'sms' | 'email';
  recipient: string;
  template: string;
  body: string;
  status: string;
  dedupeKey: string;
  createdAt: string;
}

interface Page {
  data: Notification[];
  nextCursor: string | null;
}

interface FixtureRow {
  id: string;
  channel: 'sms' | 'email';
  /** ISO 8601 with microseconds, as PostgreSQL stores it. */
  createdAt: string;
}

const PATH = '/v1/operator/notifications';

/** A user row of its own (no signup, so no welcome message), to own fixture notifications. */
async function fixtureUser(db: Db): Promise<string> {
  const id = randomUUID();
  await db('users').insert({
    id,
    email: `${id}@example.com`,
    password_hash: 'not-a-hash',
    name: 'Fixture Person',
    phone: '+14155550199',
    date_of_birth: '1990-01-01',
    role: 'customer',
  });
  return id;
}

/** `2001-02-03T04:05:06.<micros>Z` */
const at = (micros: number) => `2001-02-03T04:05:06.${String(micros).padStart(6, '0')}Z`;

async function insertNotifications(db: Db, userId: string, rows: Array<Omit<FixtureRow, 'id'>>): Promise<FixtureRow[]> {
  const withIds = rows.map((row) => ({ ...row, id: randomUUID() }));
  await db('notifications').insert(
    withIds.map((row, i) => ({
      id: row.id,
      dedupe_key: `operator-test:${row.id}`,
      user_id: userId,
      channel: row.channel,
      recipient: row.channel === 'sms' ? '+14155550199' : 'fixture@example.com',
      template: 'fixture',
      body: `fixture message ${i}`,
      status: 'sent',
      created_at: row.createdAt,
    })),
  );
  return withIds;
}

/** Newest first, ties broken by id descending: the order the API promises. */
const newestFirst = (rows: FixtureRow[]) =>
  [...rows].sort((a, b) => (a.createdAt !== b.createdAt ? (a.createdAt < b.createdAt ? 1 : -1) : a.id < b.id ? 1 : -1)).map((r) => r.id);

/** 23 rows over three milliseconds: runs of rows a few microseconds apart, and pairs sharing one timestamp. */
function mixedTimestamps(): Array<Omit<FixtureRow, 'id'>> {
  return Array.from({ length: 23 }, (_, i) => ({
    channel: i % 3 === 0 ? 'email' : 'sms',
    createdAt: at(123_000 + Math.floor(i / 4) * 450 + (i % 4 < 2 ? 0 : 7)),
  }));
}

describe('operator notifications (e2e)', function () {
  let s: Stack;
  let api: ReturnType<typeof client>;
  let operator: SignedIn;
  let customer: SignedIn;

  before(async function () {
    this.timeout(180_000);
    s = await stack();
    api = client(s.baseUrl);
    operator = await createOperator(s.baseUrl, s.db);
    customer = await signUpAndLogin(s.baseUrl);
  });

  /** A page, or a problem when the request fails. */
  const list = (query: Record<string, string | number>, token = operator.accessToken): Promise<HttpResponse<Page & { type?: string }>> => {
    const search = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return api('GET', search ? `${PATH}?${search}` : PATH, { token });
  };

  /** Follows nextCursor to the end; fails on a page that is not a 200 or is over the limit. */
  async function allPages(query: Record<string, string | number>, limit: number): Promise<{ ids: string[]; pages: number }> {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await list({ ...query, limit, ...(cursor ? { cursor } : {}) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.data.length <= limit, `page of ${res.body.data.length} over limit ${limit}`);
      ids.push(...res.body.data.map((n) => n.id));
      cursor = res.body.nextCursor;
      pages += 1;
      assert.ok(pages <= 100, 'pagination does not end');
    } while (cursor);
    return { ids, pages };
  }

  function assertValidationNames(res: HttpResponse, field: string): void {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.body.type, 'validation_error');
    assert.ok(
      res.body.errors.some((e: { field: string; in: string }) => e.field === field && e.in === 'query'),
      `errors do not name ${field}: ${JSON.stringify(res.body.errors)}`,
    );
  }

  describe('listing', () => {
    it("shows a new customer's welcome SMS", async function () {
      this.timeout(30_000);
      const fresh = await signUpAndLogin(s.baseUrl, { name: 'Marie Curie', phone: '+33612345678' });
      // The welcome goes only to a verified phone.
      await verifyContact(s.baseUrl, s.db, fresh.accessToken, 'phone');
      const welcome = await eventually('the welcome message in the outbox', async () => {
        const res = await list({ userId: fresh.user.id });
        assert.equal(res.status, 200);
        return res.body.data.find((n) => n.template === 'welcome');
      });
      assert.equal(welcome.channel, 'sms');
      assert.equal(welcome.recipient, '+33612345678');
      assert.equal(welcome.userId, fresh.user.id);
      assert.match(welcome.body, /Marie/);
    });

    it('presents each message with exactly the fields the Notification schema documents', async () => {
      const userId = await fixtureUser(s.db);
      await insertNotifications(s.db, userId, [{ channel: 'email', createdAt: at(500_000) }]);
      const [res, doc] = await Promise.all([list({ userId }), api('GET', '/openapi.json')]);
      assert.equal(res.status, 200);
      const documented = Object.keys(doc.body.components.schemas.Notification.properties as object).sort();
      assert.deepEqual(Object.keys(res.body.data[0]!).sort(), documented);
    });

    it('presents the stored message', async () => {
      const userId = await fixtureUser(s.db);
      const [row] = await insertNotifications(s.db, userId, [{ channel: 'email', createdAt: at(500_000) }]);
      const res = await list({ userId });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.nextCursor, null);
      const { id, userId: owner, channel, recipient, template, body, dedupeKey, createdAt } = res.body.data[0]!;
      assert.deepEqual(
        { id, owner, channel, recipient, template, body, dedupeKey, createdAt },
        {
          id: row!.id,
          owner: userId,
          channel: 'email',
          recipient: 'fixture@example.com',
          template: 'fixture',
          body: 'fixture message 0',
          dedupeKey: `operator-test:${row!.id}`,
          createdAt: '2001-02-03T04:05:06.500Z',
        },
      );
    });

    it('lists newest first', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, [
        { channel: 'sms', createdAt: at(100_000) },
        { channel: 'sms', createdAt: at(900_000) },
        { channel: 'email', createdAt: at(400_000) },
        { channel: 'sms', createdAt: at(700_000) },
      ]);
      const res = await list({ userId });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.data.map((n) => n.id),
        [rows[1]!.id, rows[3]!.id, rows[2]!.id, rows[0]!.id],
      );
    });

    it('lists the whole outbox newest first when unfiltered', async () => {
      const res = await list({ limit: 100 });
      assert.equal(res.status, 200);
      assert.ok(res.body.data.length > 0);
      const times = res.body.data.map((n) => Date.parse(n.createdAt));
      assert.deepEqual(times, [...times].sort((a, b) => b - a));
    });

    it('filters by userId', async () => {
      const [mine, theirs] = [await fixtureUser(s.db), await fixtureUser(s.db)];
      const rows = await insertNotifications(s.db, mine, [
        { channel: 'sms', createdAt: at(1) },
        { channel: 'email', createdAt: at(2) },
      ]);
      await insertNotifications(s.db, theirs, [{ channel: 'sms', createdAt: at(3) }]);
      const res = await list({ userId: mine });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body.data.map((n) => n.id).sort(), rows.map((r) => r.id).sort());
    });

    it('filters by channel', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, mixedTimestamps());
      const res = await list({ userId, channel: 'email', limit: 100 });
      assert.equal(res.status, 200);
      const emails = rows.filter((r) => r.channel === 'email');
      assert.ok(emails.length > 0 && emails.length < rows.length);
      assert.deepEqual(
        res.body.data.map((n) => n.id),
        newestFirst(emails),
      );
    });

    it('filters the whole outbox by channel', async () => {
      const res = await list({ channel: 'sms', limit: 100 });
      assert.equal(res.status, 200);
      assert.ok(res.body.data.length > 0);
      assert.deepEqual([...new Set(res.body.data.map((n) => n.channel))], ['sms']);
    });

    it('answers an unknown userId with an empty page', async () => {
      const res = await list({ userId: randomUUID() });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { data: [], nextCursor: null });
    });
  });

  describe('pagination', () => {
    it('returns at most limit rows and a nextCursor when more remain', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, mixedTimestamps());
      const res = await list({ userId, limit: 5 });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.data.map((n) => n.id),
        newestFirst(rows).slice(0, 5),
      );
      assert.equal(typeof res.body.nextCursor, 'string');
    });

    it('walks every row exactly once, in order, across pages', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, mixedTimestamps());
      const { ids, pages } = await allPages({ userId }, 5);
      assert.deepEqual(ids, newestFirst(rows));
      assert.equal(pages, 5);
    });

    it('walks rows that share one created_at without skipping any', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(
        s.db,
        userId,
        Array.from({ length: 7 }, (_, i) => ({ channel: i % 2 ? 'sms' : 'email', createdAt: at(654_321) })),
      );
      const { ids } = await allPages({ userId }, 2);
      assert.deepEqual(ids, newestFirst(rows));
    });

    it('walks rows a few microseconds apart within one millisecond without skipping any', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(
        s.db,
        userId,
        [11, 222, 333, 444, 555, 666, 999].map((micros) => ({ channel: 'sms' as const, createdAt: at(777_000 + micros) })),
      );
      const { ids } = await allPages({ userId }, 3);
      assert.deepEqual(ids, newestFirst(rows));
    });

    it('walks a channel-filtered list without duplicates or gaps', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, mixedTimestamps());
      const { ids } = await allPages({ userId, channel: 'sms' }, 4);
      assert.deepEqual(ids, newestFirst(rows.filter((r) => r.channel === 'sms')));
    });

    it('answers nextCursor null on a page that holds the rest', async () => {
      const userId = await fixtureUser(s.db);
      await insertNotifications(s.db, userId, mixedTimestamps());
      const res = await list({ userId, limit: 23 });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 23);
      assert.equal(res.body.nextCursor, null);
    });

    it('keeps later pages stable while newer rows arrive', async () => {
      const userId = await fixtureUser(s.db);
      const rows = await insertNotifications(s.db, userId, mixedTimestamps());
      const first = await list({ userId, limit: 10 });
      assert.equal(first.status, 200);
      await insertNotifications(s.db, userId, [{ channel: 'sms', createdAt: new Date().toISOString() }]);
      const second = await list({ userId, limit: 10, cursor: first.body.nextCursor! });
      assert.equal(second.status, 200);
      assert.deepEqual(
        second.body.data.map((n) => n.id),
        newestFirst(rows).slice(10, 20),
      );
    });

    it('defaults to pages of 20', async () => {
      const userId = await fixtureUser(s.db);
      await insertNotifications(s.db, userId, mixedTimestamps());
      const res = await list({ userId });
      assert.equal(res.status, 200);
      assert.equal(res.body.data.length, 20);
      assert.notEqual(res.body.nextCursor, null);
    });

    it('accepts limit=100', async () => {
      const res = await list({ limit: 100 });
      assert.equal(res.status, 200);
      assert.ok(res.body.data.length <= 100);
    });
  });

  describe('invalid queries', () => {
    it('rejects a cursor it did not issue with a 400 naming cursor', async () => {
      assertValidationNames(await list({ cursor: 'not-a-cursor' }), 'cursor');
    });

    it('rejects a well-formed cursor whose id is not a UUID with a 400 naming cursor, not a 500', async () => {
      const forged = Buffer.from(JSON.stringify(['2001-02-03T04:05:06.000Z', 'abc'])).toString('base64url');
      assertValidationNames(await list({ cursor: forged }), 'cursor');
    });

    it('rejects a cursor whose timestamp PostgreSQL cannot read with a 400 naming cursor, not a 500', async () => {
      const forged = Buffer.from(JSON.stringify(['1', randomUUID()])).toString('base64url');
      assertValidationNames(await list({ cursor: forged }), 'cursor');
    });

    it('accepts a cursor for a position that no longer exists', async () => {
      const res = await list({ cursor: encodeCursor({ createdAt: '2001-02-03T04:05:06.000Z', id: randomUUID() }) });
      assert.equal(res.status, 200);
    });

    for (const limit of ['0', '101', 'abc']) {
      it(`rejects limit=${limit} with a 400 naming limit`, async () => {
        assertValidationNames(await list({ limit }), 'limit');
      });
    }

    it('rejects a userId that is not a UUID with a 400 naming userId', async () => {
      assertValidationNames(await list({ userId: 'nobody' }), 'userId');
    });

    it('rejects an unknown channel with a 400 naming channel', async () => {
      assertValidationNames(await list({ channel: 'fax' }), 'channel');
    });
  });

  describe('access', () => {
    it("answers a customer's token with 403 forbidden", async () => {
      const res = await list({}, customer.accessToken);
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.body.type, 'forbidden');
    });

    it('answers no token with 401 and WWW-Authenticate', async () => {
      const res = await api('GET', PATH);
      assert.equal(res.status, 401);
      assert.equal(res.body.type, 'unauthenticated');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
    });

    it("answers a tampered operator token with 401", async () => {
      const res = await list({}, `${operator.accessToken}x`);
      assert.equal(res.status, 401);
    });
  });
});

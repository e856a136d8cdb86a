import assert from 'node:assert/strict';
import type { Db } from '../../src/db/knex';
import { applySegment, type SegmentError, type SegmentFilter } from '../../src/campaigns/segments';
import { applyConsentKeyword } from '../../src/campaigns/contacts';
import { testDb } from '../helpers/services';
import { insertContacts, newRun, uniquePhone } from '../helpers/campaigns';

describe('campaign segments and contacts (PostgreSQL)', function () {
  this.timeout(60_000);
  let db: Db;
  const run = newRun();
  const people = [
    { name: 'ada', attributes: { city: 'Paris', age: 36, tags: ['vip', 'beta'], plan: { tier: 'gold' }, note: 'likes maths', scores: [12, 70] } },
    { name: 'bob', attributes: { city: 'Lyon', age: 17, tags: ['beta'], plan: { tier: 'free' } } },
    { name: 'cy', attributes: { city: 'Paris', age: 52 } },
  ];

  before(async () => {
    db = await testDb();
    await insertContacts(
      db,
      people.map((p) => ({ phone: uniquePhone(), attributes: { run, name: p.name, ...p.attributes } })),
    );
  });

  const namesFor = async (filters: SegmentFilter[]) => {
    const rows = await applySegment(db('contacts').select(db.raw(`attributes->>'name' as name`)), [{ path: 'run', op: 'eq', value: run }, ...filters]);
    return (rows as Array<{ name: string }>).map((r) => r.name).sort();
  };

  it('eq matches a nested path by containment', async () => {
    assert.deepEqual(await namesFor([{ path: 'plan.tier', op: 'eq', value: 'gold' }]), ['ada']);
  });

  it('neq keeps contacts without the value, including those without the path', async () => {
    assert.deepEqual(await namesFor([{ path: 'city', op: 'neq', value: 'Paris' }]), ['bob']);
  });

  it('in matches any of the values', async () => {
    assert.deepEqual(await namesFor([{ path: 'city', op: 'in', value: ['Lyon', 'Nice'] }]), ['bob']);
  });

  it('gt and lt compare numbers', async () => {
    assert.deepEqual(await namesFor([{ path: 'age', op: 'gt', value: 18 }, { path: 'age', op: 'lt', value: 50 }]), ['ada']);
  });

  it('gt and lt compare strings too, whatever characters the value holds', async () => {
    assert.deepEqual(await namesFor([{ path: 'name', op: 'gt', value: 'b"\\' }]), ['bob', 'cy']);
    assert.deepEqual(await namesFor([{ path: 'name', op: 'lt', value: "b') or true --" }]), ['ada']);
  });

  it('gt matches a number inside an array (lax mode), and never a string against a number', async () => {
    assert.deepEqual(await namesFor([{ path: 'scores', op: 'gt', value: 60 }]), ['ada']);
    assert.deepEqual(await namesFor([{ path: 'city', op: 'gt', value: 0 }]), []);
  });

  it('exists matches contacts that have the path', async () => {
    assert.deepEqual(await namesFor([{ path: 'plan.tier', op: 'exists' }]), ['ada', 'bob']);
  });

  it('contains matches an array element or a substring', async () => {
    assert.deepEqual(await namesFor([{ path: 'tags', op: 'contains', value: 'vip' }]), ['ada']);
    assert.deepEqual(await namesFor([{ path: 'note', op: 'contains', value: 'math' }]), ['ada']);
  });

  it('refuses an unknown operator, naming the field', () => {
    assert.throws(() => applySegment(db('contacts'), [{ path: 'city', op: 'like' as 'eq', value: 'x' }]), (err: SegmentError) => err.field === 'filters[0].op' && err.code === 'unknown_operator');
  });

  it('refuses a path that is not dotted keys', () => {
    assert.throws(() => applySegment(db('contacts'), [{ path: "city'); drop table contacts; --", op: 'exists' }]), (err: SegmentError) => err.field === 'filters[0].path');
  });

  describe('consent keywords', () => {
    it('STOP opts the contact out of the channel, keeping the source and time', async () => {
      const [contact] = await insertContacts(db, [{ phone: uniquePhone(), consent: { sms: { status: 'opt_in' } } }]);
      const at = new Date();
      const result = await applyConsentKeyword(db, { phone: contact?.phone as string, channel: 'sms', kind: 'opt_out', at, source: 'keyword:STOP' });
      assert.equal(result.changed, true);
      const row = await db('contacts').where({ id: contact?.id }).first();
      assert.deepEqual([row.sms_consent, row.sms_consent_source, row.sms_consent_at.toISOString()], ['opt_out', 'keyword:STOP', at.toISOString()]);
    });

    it('ignores a keyword older than the consent it would replace', async () => {
      const [contact] = await insertContacts(db, [{ phone: uniquePhone(), consent: { sms: { status: 'opt_in' } } }]);
      await applyConsentKeyword(db, { phone: contact?.phone as string, channel: 'sms', kind: 'opt_out', at: new Date('2020-01-01T00:00:00Z'), source: 'keyword:STOP' });
      assert.equal((await db('contacts').where({ id: contact?.id }).first()).sms_consent, 'opt_in');
    });

    it('an update without consent keeps the stored consent', async () => {
      const phone = uniquePhone();
      await insertContacts(db, [{ phone, consent: { sms: { status: 'opt_in' } } }]);
      await insertContacts(db, [{ phone, attributes: { city: 'Oslo' } }]);
      const row = await db('contacts').where({ phone }).first();
      assert.deepEqual([row.sms_consent, row.attributes.city], ['opt_in', 'Oslo']);
    });
  });
});

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Client as PgClient } from 'pg';
import { createDb, type Db } from '../../src/db/knex';
import { postgresUrl } from '../helpers/services';

/**
 * Migration 005 on a database of its own, stopped at 004 first, so the backfill of
 * referral codes runs over users that existed before it.
 */
describe('migration 005 (billers, cashback, referrals)', function () {
  this.timeout(120_000);
  let admin: PgClient;
  let db: Db;
  let name: string;

  before(async () => {
    const url = new URL(await postgresUrl());
    name = `finflow_migration_${process.pid}_${Date.now()}`;
    admin = new PgClient({ connectionString: url.toString() });
    await admin.connect();
    await admin.query(`create database ${name}`);
    url.pathname = `/${name}`;
    db = createDb({ database: { url: url.toString(), poolMax: 2, embeddedPort: 0 }, dependencyTimeoutMs: 5000 });
    for (let i = 0; i < 4; i++) await db.migrate.up();
  });

  after(async () => {
    await db?.destroy();
    await admin?.query(`drop database if exists ${name}`);
    await admin?.end();
  });

  async function insertUsers(count: number): Promise<string[]> {
    const ids = Array.from({ length: count }, () => randomUUID());
    await db('users').insert(
      ids.map((id) => ({ id, email: `${id}@example.com`, password_hash: 'x', name: 'Old User', phone: '+14155550123', date_of_birth: '1990-01-01', role: 'customer' })),
    );
    return ids;
  }

  it('starts from 004', async () => {
    const [completed] = (await db.migrate.list()) as [Array<{ name: string }>, unknown[]];
    assert.equal(completed[completed.length - 1]?.name, '20261123_004_wallet');
  });

  it('gives every existing user a distinct referral code', async () => {
    await insertUsers(50);
    await db.migrate.up();
    const codes = (await db('users').pluck('referral_code')) as string[];
    assert.equal(codes.length, 50);
    assert.equal(new Set(codes).size, 50);
    assert.deepEqual(
      codes.filter((code) => !/^[A-HJ-NP-Z2-9]{10}$/.test(code)),
      [],
    );
  });

  it('gives a user inserted afterwards a code by default', async () => {
    const [id] = await insertUsers(1);
    const row = await db('users').where({ id }).first('referral_code', 'referred_by');
    assert.match(row.referral_code, /^[A-HJ-NP-Z2-9]{10}$/);
    assert.equal(row.referred_by, null);
  });

  it('reverts cleanly and applies again', async () => {
    await db.migrate.down();
    const reverted = await db.schema.hasColumn('users', 'referral_code');
    await db.migrate.up();
    const seeded = await db('billers').count<{ count: string }[]>({ count: '*' });
    assert.deepEqual([reverted, Number(seeded[0]?.count)], [false, 6]);
  });
});

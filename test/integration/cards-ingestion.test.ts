import assert from 'node:assert/strict';
import { createCardActivities } from '../../src/activities/cards/ingest';
import { PAN_REDACTION } from '../../src/activities/cards/pan';
import { findCardFile, findCardWithHistory } from '../../src/cards/repository';
import type { Db } from '../../src/db/knex';
import type { ObjectStorage } from '../../src/providers/storage/port';
import type { IngestCardFileResult } from '../../src/workflows/cards/contract';
import { cardId, cardStorage, csv, storeCardFile } from '../helpers/cards';
import { testDb } from '../helpers/services';

/**
 * The ingestion activities against PostgreSQL and a real S3 server, driven as the
 * workflow drives them (prepare, batches until done, finish): what lands in the tables
 * for good rows, duplicates, late events, rejected rows and files that cannot be read.
 */
describe('card file ingestion (activities)', function () {
  this.timeout(60_000);
  let db: Db;
  let storage: ObjectStorage;
  let activities: ReturnType<typeof createCardActivities>;

  before(async function () {
    this.timeout(600_000);
    [db, storage] = await Promise.all([testDb(), cardStorage()]);
    activities = createCardActivities({ db, storage, now: () => new Date(), cardFileBatchRows: 2 });
  });

  async function ingest(partner: string, content: string | Buffer): Promise<IngestCardFileResult> {
    const fileId = await storeCardFile(db, storage, partner, content);
    const prepared = await activities.prepareCardFile(fileId);
    if (prepared.status === 'processing') {
      for (let batch = 0; batch < 1000; batch += 1) if ((await activities.ingestCardFileBatch(fileId)).done) break;
    }
    return activities.finishCardFile(fileId);
  }

  const history = async (id: string) => (await findCardWithHistory(db, id))?.events.map((e) => e.status);

  it('reads a pickup file into dispatched events, counting every row', async () => {
    const [a, b, c] = [cardId(), cardId(), cardId()];
    const result = await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${a},501234567,14-11-2023 12:00PM`, `2,${b},+971 50 765 4321,12-11-2023 11:59 PM`, `3,${c},971-50-1112222,13-11-2023 14:00`));
    assert.deepEqual(result.counters, { rows: 3, accepted: 3, rejected: 0, duplicates: 0 });
    assert.equal(result.status, 'completed');
  });

  it("keeps the holder's phone in E.164 and the card's status with its time", async () => {
    const id = cardId();
    await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${id},050-123 4567,14-11-2023 12:00PM`));
    const found = await findCardWithHistory(db, id);
    assert.equal(found?.card.phone_e164, '+971501234567');
    assert.equal(found?.card.status, 'dispatched');
    assert.equal(found?.card.status_at.toISOString(), '2023-11-14T08:00:00.000Z');
  });

  it('records an event once when another file repeats it, and counts the repeat as a duplicate', async () => {
    const id = cardId();
    await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${id},501234567,14-11-2023 12:00PM`));
    const again = await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `77,${id},+971501234567,14-11-2023 12:00 PM`, `78,${cardId()},501234567,14-11-2023 12:00PM`));
    assert.deepEqual(again.counters, { rows: 2, accepted: 1, rejected: 0, duplicates: 1 });
    assert.deepEqual(await history(id), ['dispatched']);
  });

  it('leaves a delivered card delivered when an older in-transit event arrives later', async () => {
    const id = cardId();
    await ingest('courier-delivered', csv('ID,Card ID,User contact,Timestamp,Comment', `1,${id},501234567,2023-11-15T10:00:00+04:00,"Signed by holder"`));
    await ingest('courier-exceptions', csv('"Exception ID";"Card Id";"Mobile No.";"Event Time";"Exception";"Comment"', `"5";"${id}";"501234567";"14-11-2023 09:00 AM";"HUB SCAN";""`));
    const found = await findCardWithHistory(db, id);
    assert.equal(found?.card.status, 'delivered');
    assert.deepEqual(found?.events.map((e) => e.status), ['delivered', 'in_transit']);
  });

  it('moves a card on when a later event arrives', async () => {
    const id = cardId();
    await ingest('courier-delivered', csv('ID,Card ID,User contact,Timestamp,Comment', `1,${id},501234567,2023-11-15T10:00:00+04:00,ok`));
    await ingest('courier-returned', csv('"AWB NO.","CARD_ID","CONTACT NUMBER","RETURN DATE","STATUS","REASON"', `"A1","${id}","501234567","1700200000","RTO","holder moved"`));
    assert.equal((await findCardWithHistory(db, id))?.card.status, 'returned');
  });

  it('breaks a tie of event times by the status order, whichever file or row came first', async () => {
    const id = cardId();
    const header = '"Exception ID";"Card Id";"Mobile No.";"Event Time";"Exception";"Comment"';
    await ingest('courier-exceptions', csv(header, `"1";"${id}";"501234567";"14-11-2023 09:00 AM";"ADDRESS NOT FOUND";""`, `"2";"${id}";"501234567";"14-11-2023 09:00 AM";"HUB SCAN";""`));
    await ingest('courier-exceptions', csv(header, `"3";"${id}";"501234567";"14-11-2023 09:00 AM";"DOOR LOCKED";""`));
    assert.equal((await findCardWithHistory(db, id))?.card.status, 'delivery_exception');
  });

  it('keeps each rejected row with its line number, redacted raw text and reason', async () => {
    const good = cardId();
    const result = await ingest(
      'courier-delivered',
      csv(
        'ID,Card ID,User contact,Timestamp,Comment',
        `1,${good},501234567,2023-11-15T10:00:00+04:00,"multi`,
        `line comment"`,
        `2,,501234567,2023-11-15T10:00:00+04:00,no card`,
        `3,${cardId()},12,2023-11-15T10:00:00+04:00,bad phone`,
        `4,${cardId()},501234567,15/11/2023,bad date`,
        `5,${cardId()},501234567,2023-11-15T10:00:00+04:00,card 4111 1111 1111 1111 in a comment`,
      ),
    );
    assert.deepEqual(result.counters, { rows: 5, accepted: 1, rejected: 4, duplicates: 0 });
    const rejects = await db('card_file_rejects').where({ file_id: result.fileId }).orderBy('line_no').select('line_no', 'raw', 'reason');
    assert.deepEqual(
      rejects.map((r: { line_no: number; reason: string }) => [r.line_no, r.reason.split(' ').slice(0, 3).join(' ')]),
      [
        [4, 'the card id'],
        [5, 'the phone number'],
        [6, 'the timestamp matches'],
        [7, 'a value looks'],
      ],
    );
    assert.match((rejects[3] as { raw: string }).raw, new RegExp(`card ${PAN_REDACTION.replace(/[[\]]/g, '\\$&')} in a comment`));
  });

  it('writes a card number nowhere, whatever column it was in', async () => {
    const pan = '5500000000000004';
    await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${pan},501234567,14-11-2023 12:00PM`, `${pan},${cardId()},501234567,14-11-2023 12:00PM`));
    for (const table of ['cards', 'card_events', 'card_file_rejects', 'card_files']) {
      const { rows } = await db.raw<{ rows: unknown[] }>(`select 1 from ${table} t where t::text like ?`, [`%${pan}%`]);
      assert.equal(rows.length, 0, `${table} holds the card number`);
    }
  });

  const badFiles: Array<[string, string, string | Buffer, RegExp]> = [
    ['an unknown layout', 'courier-unknown', csv('ID,Card ID,User Mobile,Timestamp', '1,C1,501234567,14-11-2023 12:00PM'), /unknown layout "courier-unknown"/],
    ['an empty file', 'courier-pickup', '', /empty/],
    ['a binary file', 'courier-pickup', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0xff, 0xfe, 0x01]), /binary/],
    ['a file with only a header', 'courier-pickup', csv('ID,Card ID,User Mobile,Timestamp'), /header row and no rows/],
    ['a file whose header lacks a column', 'courier-pickup', csv('ID,Card,Timestamp', '1,C1,14-11-2023 12:00PM'), /lacks Card ID, User Mobile/],
  ];
  for (const [name, partner, content, reason] of badFiles) {
    it(`records ${name} as rejected with the reason`, async () => {
      const result = await ingest(partner, content);
      assert.equal(result.status, 'rejected');
      assert.match(result.reason ?? '', reason);
      assert.equal((await findCardFile(db, result.fileId))?.status, 'rejected');
    });
  }

  it('counts lines of the file across batches, quoted line breaks included', async () => {
    const ids = [cardId(), cardId(), cardId(), cardId()];
    const result = await ingest(
      'courier-delivered',
      csv('ID,Card ID,User contact,Timestamp,Comment', `1,${ids[0]},501234567,2023-11-15T10:00:00+04:00,"a`, `b"`, `2,${ids[1]},501234567,2023-11-15T10:00:00+04:00,c`, `3,${ids[2]},1,2023-11-15T10:00:00+04:00,bad`, `4,${ids[3]},1,2023-11-15T10:00:00+04:00,bad`),
    );
    const lines = await db('card_file_rejects').where({ file_id: result.fileId }).orderBy('line_no').pluck('line_no');
    assert.deepEqual(lines, [5, 6]);
  });

  it('counts blank lines as lines of the file, not as rows', async () => {
    const result = await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${cardId()},501234567,14-11-2023 12:00PM`, '', '', `2,${cardId()},12,14-11-2023 12:00PM`, '', `3,${cardId()},1,14-11-2023 12:00PM`));
    assert.deepEqual(result.counters, { rows: 3, accepted: 1, rejected: 2, duplicates: 0 });
    const lines = await db('card_file_rejects').where({ file_id: result.fileId }).orderBy('line_no').pluck('line_no');
    assert.deepEqual(lines, [5, 7]);
  });

  it('keeps a row the parser cannot read once, at its line, when it is met before the batch that reaches it', async () => {
    // The parser meets the unclosed quote while the first batch (2 rows) is still being read.
    const result = await ingest('courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${cardId()},501234567,14-11-2023 12:00PM`, `2,${cardId()},501234567,14-11-2023 12:00PM`, `3,${cardId()},501234567,14-11-2023 12:00PM`, `4,"${cardId()},501234567`));
    assert.deepEqual(result.counters, { rows: 4, accepted: 3, rejected: 1, duplicates: 0 });
    const rejects = await db('card_file_rejects').where({ file_id: result.fileId }).select('line_no', 'reason');
    assert.deepEqual(rejects.map((r: { line_no: number; reason: string }) => [r.line_no, r.reason.startsWith('the row is not valid CSV')]), [[5, true]]);
  });

  it('counts no row twice when two attempts of a batch run at once', async () => {
    const fileId = await storeCardFile(db, storage, 'courier-pickup', csv('ID,Card ID,User Mobile,Timestamp', `1,${cardId()},501234567,14-11-2023 12:00PM`, `2,${cardId()},501234567,14-11-2023 12:00PM`, `3,${cardId()},501234567,14-11-2023 12:00PM`));
    await activities.prepareCardFile(fileId);
    // A retried attempt while the first still runs (a heartbeat-less timeout): both read from the same offset.
    await Promise.all([activities.ingestCardFileBatch(fileId), activities.ingestCardFileBatch(fileId)]);
    while (!(await activities.ingestCardFileBatch(fileId)).done);
    const result = await activities.finishCardFile(fileId);
    assert.deepEqual(result.counters, { rows: 3, accepted: 3, rejected: 0, duplicates: 0 });
  });
});

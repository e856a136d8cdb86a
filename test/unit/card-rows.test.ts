import assert from 'node:assert/strict';
import { columnIndex, shippedLayouts, type Layout } from '../../src/activities/cards/layouts';
import { containsPan, luhnValid, PAN_REDACTION, redactPans } from '../../src/activities/cards/pan';
import { normalisePhone, parseEventTime, readRow, statusWords } from '../../src/activities/cards/rows';

/**
 * Partner rows read with the shipped layouts: each courier's header spellings, date
 * formats and phone forms become one normal form, and a row is refused with its reason.
 */

const layouts = shippedLayouts();
const layout = (id: string): Layout => {
  const found = layouts.get(id);
  if (!found) throw new Error(`no layout ${id}`);
  return found;
};
const pickup = layout('courier-pickup');
const delivered = layout('courier-delivered');
const exceptions = layout('courier-exceptions');
const returned = layout('courier-returned');

const PICKUP_COLUMNS = columnIndex(pickup, ['ID', 'Card ID', 'User Mobile', 'Timestamp']);
const readPickup = (record: string[]) => readRow(record, PICKUP_COLUMNS, pickup, statusWords(pickup));

describe('card partner layouts', () => {
  it('ships the four courier layouts', () => {
    assert.deepEqual([...layouts.keys()], ['courier-delivered', 'courier-exceptions', 'courier-pickup', 'courier-returned']);
  });

  it('finds columns by any listed spelling, regardless of case and spacing', () => {
    assert.deepEqual(columnIndex(exceptions, ['exception id', 'CARD  ID', 'Mobile No.', 'event time', 'EXCEPTION', 'remarks']), {
      eventId: 0,
      cardId: 1,
      phone: 2,
      timestamp: 3,
      status: 4,
      comment: 5,
    });
  });

  it('names the columns a header lacks', () => {
    assert.throws(() => columnIndex(pickup, ['ID', 'Card ID', 'Timestamp']), /lacks User Mobile/);
  });
});

describe('card event times', () => {
  const cases: Array<[string, Layout, string, string]> = [
    ['12-hour time with no space', pickup, '14-11-2023 12:00PM', '2023-11-14T08:00:00.000Z'],
    ['12-hour time with a space', pickup, '12-11-2023 11:59 PM', '2023-11-12T19:59:00.000Z'],
    ['24-hour time', pickup, '13-11-2023 14:00', '2023-11-13T10:00:00.000Z'],
    ['ISO 8601 with its zone', delivered, '2023-11-14T12:00:00+05:30', '2023-11-14T06:30:00.000Z'],
    ['epoch seconds', returned, '1699963200', '2023-11-14T12:00:00.000Z'],
  ];
  for (const [name, withLayout, text, iso] of cases) {
    it(`reads ${name} in the layout's zone`, () => {
      assert.equal(parseEventTime(text, withLayout)?.toISOString(), iso);
    });
  }

  it('refuses a date no format matches', () => {
    assert.equal(parseEventTime('2023/11/14 12:00', pickup), undefined);
  });

  it('refuses a date that parses but is no real day', () => {
    assert.equal(parseEventTime('31-02-2023 10:00', pickup), undefined);
  });
});

describe('card holder phones', () => {
  for (const text of ['501234567', '0501234567', '+971501234567', '+971 50 123 4567', '971-50-1234567', '00971 50 123 4567']) {
    it(`reads ${JSON.stringify(text)} as +971501234567`, () => {
      assert.equal(normalisePhone(text, pickup), '+971501234567');
    });
  }

  it('refuses a number too short to be a phone', () => {
    assert.equal(normalisePhone('12345', pickup), undefined);
  });
});

describe('card numbers in partner rows', () => {
  it('checks Luhn', () => {
    assert.equal(luhnValid('4111111111111111'), true);
    assert.equal(luhnValid('4111111111111112'), false);
  });

  it('finds a card number written with spaces or dashes', () => {
    assert.equal(containsPan('card 4111 1111 1111 1111 lost'), true);
    assert.equal(containsPan('5500-0000-0000-0004'), true);
  });

  it('does not take a phone, a date or a 12-digit id for a card number', () => {
    assert.equal(containsPan('+971 50 123 4567,14-11-2023 12:00PM,123456789012'), false);
  });

  it('leaves a 16-digit number that fails Luhn', () => {
    assert.equal(containsPan('4111111111111112'), false);
  });

  it('redacts every card number in a raw row and keeps the rest', () => {
    assert.equal(redactPans('7,4111111111111111,501234567,x 5500 0000 0000 0004'), `7,${PAN_REDACTION},501234567,x ${PAN_REDACTION}`);
  });
});

describe('reading a partner row', () => {
  it('reads a pickup row into a dispatched event with an E.164 phone', () => {
    assert.deepEqual(readPickup(['1', 'CARD-001', '501234567', '14-11-2023 12:00PM']), {
      ok: true,
      event: { cardId: 'CARD-001', phoneE164: '+971501234567', status: 'dispatched', eventAt: '2023-11-14T08:00:00.000Z', comment: null },
    });
  });

  it('maps a partner status word whatever its case and spacing', () => {
    const columns = columnIndex(exceptions, ['Exception ID', 'Card Id', 'Mobile No.', 'Event Time', 'Exception', 'Comment']);
    const outcome = readRow(['9', 'CARD-002', '501234567', '13-11-2023 14:00', 'customer  not available', 'gate closed'], columns, exceptions, statusWords(exceptions));
    assert.equal(outcome.ok && outcome.event.status, 'delivery_attempted');
  });

  const refusals: Array<[string, string[], string]> = [
    ['a card number in any column', ['4111111111111111', 'CARD-001', '501234567', '14-11-2023 12:00PM'], 'card_number'],
    ['a missing card id', ['1', ' ', '501234567', '14-11-2023 12:00PM'], 'missing_card_id'],
    ['a card id with spaces', ['1', 'CARD 1', '501234567', '14-11-2023 12:00PM'], 'bad_card_id'],
    ['a bad phone', ['1', 'CARD-001', '12', '14-11-2023 12:00PM'], 'bad_phone'],
    ['an unparseable date', ['1', 'CARD-001', '501234567', 'yesterday'], 'bad_date'],
  ];
  for (const [name, record, reason] of refusals) {
    it(`refuses ${name} (${reason})`, () => {
      assert.deepEqual(readPickup(record), { ok: false, reason });
    });
  }

  it('refuses a status word the layout does not map (unknown_status)', () => {
    const columns = columnIndex(exceptions, ['Exception ID', 'Card Id', 'Mobile No.', 'Event Time', 'Exception', 'Comment']);
    assert.deepEqual(readRow(['9', 'CARD-002', '501234567', '13-11-2023 14:00', 'ABDUCTED BY ALIENS', ''], columns, exceptions, statusWords(exceptions)), { ok: false, reason: 'unknown_status' });
  });
});

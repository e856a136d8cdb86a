import assert from 'node:assert/strict';
import { nextSendableAt } from '../../src/campaigns/send-window';

describe('campaign send windows', () => {
  const quiet = { quietHours: { start: '21:00', end: '08:00' } };

  it('allows a send at once outside quiet hours', () => {
    const now = new Date('2027-03-10T15:00:00Z'); // 10:00 in New York
    assert.equal(nextSendableAt(now, 'America/New_York', quiet)?.toISOString(), now.toISOString());
  });

  it('waits for the end of quiet hours that wrap midnight, in the contact timezone', () => {
    const now = new Date('2027-03-10T15:00:00Z'); // 00:00 next day in Tokyo
    assert.equal(nextSendableAt(now, 'Asia/Tokyo', quiet)?.toISOString(), '2027-03-10T23:00:00.000Z');
  });

  it('honours a daylight-saving change: 08:00 in New York is 12:00 UTC after it', () => {
    const now = new Date('2027-03-14T05:00:00Z'); // 00:00 EST on the day clocks go forward
    assert.equal(nextSendableAt(now, 'America/New_York', quiet)?.toISOString(), '2027-03-14T12:00:00.000Z');
  });

  it('waits for the next weekday of a send window', () => {
    const saturday = new Date('2027-03-13T12:00:00Z');
    const rules = { sendWindow: { weekdays: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' } };
    assert.equal(nextSendableAt(saturday, 'Europe/London', rules)?.toISOString(), '2027-03-15T09:00:00.000Z');
  });

  it('combines quiet hours with a window: the later opening wins', () => {
    const now = new Date('2027-03-10T06:00:00Z'); // 06:00 in London
    const rules = { quietHours: { start: '22:00', end: '07:00' }, sendWindow: { weekdays: [1, 2, 3, 4, 5, 6, 7], start: '09:30', end: '18:00' } };
    assert.equal(nextSendableAt(now, 'Europe/London', rules)?.toISOString(), '2027-03-10T09:30:00.000Z');
  });

  it('answers undefined when the rules never allow a send', () => {
    assert.equal(nextSendableAt(new Date(), 'UTC', { sendWindow: { weekdays: [], start: '09:00', end: '17:00' } }), undefined);
  });
});

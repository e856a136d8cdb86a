import assert from 'node:assert/strict';
import { anniversary, signupBody } from '../../src/api/auth/schema';

describe('signup schema', () => {
  const today = new Date('2026-11-23T10:00:00Z');
  const schema = signupBody(() => today);
  const valid = {
    email: 'ada@example.com',
    password: 'correct horse battery staple',
    name: 'Ada Lovelace',
    phone: '+14155550123',
    dateOfBirth: '1990-12-10',
  };
  const fieldsOf = (input: object) => {
    const result = schema.safeParse({ ...valid, ...input });
    return result.success ? [] : result.error.issues.map((i) => i.path.join('.'));
  };

  it('accepts a valid body', () => {
    assert.deepEqual(fieldsOf({}), []);
  });

  it('accepts someone who turns 18 today', () => {
    assert.deepEqual(fieldsOf({ dateOfBirth: '2008-11-23' }), []);
  });

  it('refuses someone who turns 18 tomorrow', () => {
    assert.deepEqual(fieldsOf({ dateOfBirth: '2008-11-24' }), ['dateOfBirth']);
  });

  it('refuses today as a date of birth with a single issue', () => {
    assert.deepEqual(fieldsOf({ dateOfBirth: '2026-11-23' }), ['dateOfBirth']);
  });

  it('refuses 29 February of a year that has none', () => {
    assert.deepEqual(fieldsOf({ dateOfBirth: '2001-02-29' }), ['dateOfBirth']);
  });

  it('refuses a date before 1900', () => {
    assert.deepEqual(fieldsOf({ dateOfBirth: '1899-12-31' }), ['dateOfBirth']);
  });

  it('moves a 29 February birthday to 1 March in common years', () => {
    assert.equal(anniversary('2004-02-29', 18), '2022-03-01');
  });

  it('reads the clock at validation time, not when the schema is built', () => {
    let now = new Date('2026-01-01T00:00:00Z');
    const moving = signupBody(() => now);
    const body = { ...valid, dateOfBirth: '2008-06-01' };
    assert.equal(moving.safeParse(body).success, false);
    now = new Date('2026-06-01T00:00:00Z');
    assert.equal(moving.safeParse(body).success, true);
  });

  it('names only phone for a non-E.164 number', () => {
    assert.deepEqual(fieldsOf({ phone: '0044 20 7946 0958' }), ['phone']);
  });

  it('normalises the email to lowercase without surrounding spaces', () => {
    const result = schema.parse({ ...valid, email: ' Ada@Example.COM ' });
    assert.equal(result.email, 'ada@example.com');
  });
});

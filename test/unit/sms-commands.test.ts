import assert from 'node:assert/strict';
import { parseSmsCommand } from '../../src/activities/banking/sms-commands';
import { consentKeyword } from '../../src/providers/sms/keywords';

describe('SMS banking commands', () => {
  const cases: Array<[string, ReturnType<typeof parseSmsCommand>]> = [
    ['BAL', { kind: 'balance' }],
    [' bal ', { kind: 'balance' }],
    ['Balance.', { kind: 'balance' }],
    ['LAST', { kind: 'last', count: 5 }],
    ['last 3', { kind: 'last', count: 3 }],
    ['LAST 10', { kind: 'last', count: 10 }],
    ['LAST 11', { kind: 'unknown', reason: 'count_out_of_range' }],
    ['LAST 0', { kind: 'unknown', reason: 'count_out_of_range' }],
    ['STMT', { kind: 'statement', count: 10 }],
    ['stmt 25', { kind: 'statement', count: 25 }],
    ['STMT 1001', { kind: 'unknown', reason: 'count_out_of_range' }],
    ['HELP', { kind: 'help' }],
    ['info', { kind: 'help' }],
    ['STOP', { kind: 'opt_out' }],
    ['Unsubscribe!', { kind: 'opt_out' }],
    ['stopall', { kind: 'opt_out' }],
    ['START', { kind: 'opt_in' }],
    ['unstop', { kind: 'opt_in' }],
    ['BAL 5', { kind: 'unknown', reason: 'not_a_command' }],
    ['what is my balance', { kind: 'unknown', reason: 'not_a_command' }],
    ['', { kind: 'unknown', reason: 'not_a_command' }],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)} as ${expected.kind}${'count' in expected ? ` ${expected.count}` : ''}`, () => {
      assert.deepEqual(parseSmsCommand(text), expected);
    });
  }

  it('counts only a single word as a consent keyword', () => {
    assert.equal(consentKeyword('stop sending me these'), undefined);
    assert.equal(consentKeyword('please STOP'), undefined);
    assert.deepEqual(consentKeyword('  "Stop" '), { kind: 'opt_out' });
    assert.deepEqual(consentKeyword('YES'), { kind: 'opt_in' });
  });
});

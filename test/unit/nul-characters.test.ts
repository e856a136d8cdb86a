import assert from 'node:assert/strict';
import { nulCharacterErrors } from '../../src/api/core/route';

describe('nulCharacterErrors (rule no-nul-characters)', () => {
  it('names each string value holding U+0000 by its path', () => {
    const errors = nulCharacterErrors({ name: 'a\u0000b', attributes: { tier: ['gold', 'x\u0000'] }, note: 'fine' }, 'body');
    assert.deepEqual(errors.map((e) => [e.field, e.code]).sort(), [
      ['attributes.tier.1', 'nul_character'],
      ['name', 'nul_character'],
    ]);
  });

  it('names a key holding U+0000, which a JSON column cannot store either', () => {
    const errors = nulCharacterErrors({ attributes: { 'ti\u0000er': 'gold' } }, 'body');
    assert.deepEqual(
      errors.map((e) => [e.field, e.in, e.code]),
      [['attributes.ti\\u0000er', 'body', 'nul_character']],
    );
  });

  it('finds nothing in text without U+0000', () => {
    assert.deepEqual(nulCharacterErrors({ attributes: { tier: 'gold', n: 3, ok: true, none: null } }, 'body'), []);
  });
});

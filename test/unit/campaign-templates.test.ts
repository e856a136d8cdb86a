import assert from 'node:assert/strict';
import { placeholdersOf, render, smsSegments, undeclaredPlaceholders } from '../../src/campaigns/templates';

describe('campaign templates', () => {
  const contact = { phone: '+14155550100', attributes: { first_name: 'Ada', profile: { tier: 'gold' } } };

  it('lists each placeholder once, spaces inside the braces allowed', () => {
    assert.deepEqual(placeholdersOf('Hi {{first_name}}, {{ profile.tier }} {{first_name}}'), ['first_name', 'profile.tier']);
  });

  it('names the placeholders a body uses without declaring them', () => {
    assert.deepEqual(undeclaredPlaceholders('Hi {{ first_name }} {{ city }}', ['first_name']), ['city']);
  });

  it('fills placeholders from attributes by dotted path and from the phone', () => {
    assert.deepEqual(render('Hi {{ first_name }} ({{ profile.tier }}) at {{ phone }}', contact), { ok: true, text: 'Hi Ada (gold) at +14155550100' });
  });

  it('says which placeholder a contact cannot fill instead of throwing', () => {
    assert.deepEqual(render('Hi {{ last_name }}', contact), { ok: false, reason: 'missing_placeholder: last_name' });
  });

  it('does not fill a placeholder with an object', () => {
    assert.equal(render('{{ profile }}', contact).ok, false);
  });

  describe('SMS segments', () => {
    it('fits 160 GSM-7 characters in one segment', () => {
      assert.deepEqual(smsSegments('a'.repeat(160)), { encoding: 'GSM-7', units: 160, segments: 1 });
    });

    it('splits 161 GSM-7 characters into two segments of at most 153', () => {
      assert.equal(smsSegments('a'.repeat(161)).segments, 2);
      assert.equal(smsSegments('a'.repeat(307)).segments, 3);
    });

    it('counts the extension characters as two septets', () => {
      assert.deepEqual(smsSegments('€'.repeat(80)), { encoding: 'GSM-7', units: 160, segments: 1 });
      assert.equal(smsSegments('€'.repeat(81)).segments, 2);
    });

    it('goes UCS-2 for any other character: 70 in one segment, then 67 each', () => {
      assert.deepEqual(smsSegments('ł'.repeat(70)), { encoding: 'UCS-2', units: 70, segments: 1 });
      assert.equal(smsSegments('ł'.repeat(71)).segments, 2);
      assert.equal(smsSegments(`${'a'.repeat(134)}😀`).segments, 3);
    });
  });
});

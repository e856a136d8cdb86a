import assert from 'node:assert/strict';
import { hash } from '@node-rs/argon2';
import {
  containsEmailLocalPart,
  dummyPasswordHash,
  hashPassword,
  needsRehash,
  verifyPassword,
  weakPasswordReason,
} from '../../src/api/auth/passwords';

describe('passwords', () => {
  const password = 'correct horse battery staple';

  it('hashes with argon2id at OWASP parameters, encoded in the hash', async () => {
    const encoded = await hashPassword(password);
    const match = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(encoded);
    assert.ok(match, encoded);
    assert.ok(Number(match[1]) >= 19_456);
    assert.ok(Number(match[2]) >= 2);
    assert.ok(Number(match[3]) >= 1);
  });

  it('salts every hash', async () => {
    assert.notEqual(await hashPassword(password), await hashPassword(password));
  });

  it('verifies the right password', async () => {
    assert.equal(await verifyPassword(await hashPassword(password), password), true);
  });

  it('refuses a wrong password', async () => {
    assert.equal(await verifyPassword(await hashPassword(password), `${password}!`), false);
  });

  it('refuses everything against a malformed hash instead of throwing', async () => {
    assert.equal(await verifyPassword('not-a-hash', password), false);
  });

  it('refuses every password against the dummy hash', async () => {
    assert.equal(await verifyPassword(await dummyPasswordHash(), password), false);
  });

  it('asks for a rehash of a hash made with weaker parameters', async () => {
    assert.equal(needsRehash(await hash(password, { memoryCost: 4096, timeCost: 1, parallelism: 1 })), true);
  });

  it('does not ask for a rehash of a current hash', async () => {
    assert.equal(needsRehash(await hashPassword(password)), false);
  });

  it('calls a common password weak, whatever its case', () => {
    assert.ok(weakPasswordReason('PassWord1234'));
  });

  it('calls a single repeated character weak', () => {
    assert.ok(weakPasswordReason('🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂'));
  });

  it('accepts a long passphrase', () => {
    assert.equal(weakPasswordReason(password), undefined);
  });

  it("spots the email's local part inside the password, whatever its case", () => {
    assert.equal(containsEmailLocalPart('my-ADA.L-password', 'ada.l@example.com'), true);
  });

  it('ignores local parts too short to mean anything', () => {
    assert.equal(containsEmailLocalPart('a perfectly fine password', 'a@example.com'), false);
  });
});

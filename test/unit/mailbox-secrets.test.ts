import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createSecretBox } from '../../src/providers/mailbox/secret-box';

/** Mailbox passwords sealed at rest: AES-256-GCM under a key id, so keys rotate. */
describe('mailbox secret box', () => {
  const oldKey = { id: 'k2026', key: randomBytes(32) };
  const newKey = { id: 'k2027', key: randomBytes(32) };
  const owner = randomUUID();

  it('opens what it sealed, and the sealed bytes do not contain the password', () => {
    const box = createSecretBox({ currentKeyId: 'k2026', keys: [oldKey] });
    const sealed = box.seal('hunter2-imap', owner);
    assert.deepEqual([box.open(sealed, owner), sealed.sealed.includes(Buffer.from('hunter2-imap')), sealed.keyId], ['hunter2-imap', false, 'k2026']);
  });

  it('still opens a secret sealed with the old key after the current key changes', () => {
    const sealed = createSecretBox({ currentKeyId: 'k2026', keys: [oldKey] }).seal('hunter2-imap', owner);
    const rotated = createSecretBox({ currentKeyId: 'k2027', keys: [oldKey, newKey] });
    assert.deepEqual([rotated.open(sealed, owner), rotated.seal('x', owner).keyId], ['hunter2-imap', 'k2027']);
  });

  it("refuses to open a secret moved to another customer's row", () => {
    const box = createSecretBox({ currentKeyId: 'k2026', keys: [oldKey] });
    assert.throws(() => box.open(box.seal('hunter2-imap', owner), randomUUID()), /unable to authenticate/i);
  });

  it('names a key that is no longer configured', () => {
    const sealed = createSecretBox({ currentKeyId: 'k2026', keys: [oldKey] }).seal('hunter2-imap', owner);
    assert.throws(() => createSecretBox({ currentKeyId: 'k2027', keys: [newKey] }).open(sealed, owner), /unknown key "k2026"/);
  });
});

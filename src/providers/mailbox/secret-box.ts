import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { CodecKeyring } from '../../temporal/codec';

/**
 * Seals a mailbox password at rest with AES-256-GCM. The row keeps the sealed bytes and
 * the id of the key that sealed them, so keys rotate: new secrets use the current key,
 * old ones still open with the key they name until they are saved again. The key id and
 * the owner's id are bound to the ciphertext (additional data), so a sealed password
 * cannot be moved to another customer's row or relabelled with another key.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface SealedSecret {
  sealed: Buffer;
  keyId: string;
}

export interface SecretBox {
  seal(plain: string, ownerId: string): SealedSecret;
  open(secret: SealedSecret, ownerId: string): string;
}

export function createSecretBox(keyring: CodecKeyring): SecretBox {
  const byId = new Map(keyring.keys.map((k) => [k.id, k.key]));
  const keyOf = (id: string) => {
    const key = byId.get(id);
    if (!key) throw new Error(`mailbox secret sealed with unknown key "${id}" (is it still listed in MAILBOX_SECRET_KEYS?)`);
    return key;
  };
  const aad = (keyId: string, ownerId: string) => Buffer.from(`${keyId}\u0000${ownerId}`, 'utf8');
  return {
    seal(plain, ownerId) {
      const keyId = keyring.currentKeyId;
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', keyOf(keyId), iv);
      cipher.setAAD(aad(keyId, ownerId));
      return { sealed: Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]), keyId };
    },
    open({ sealed, keyId }, ownerId) {
      const decipher = createDecipheriv('aes-256-gcm', keyOf(keyId), sealed.subarray(0, IV_BYTES));
      decipher.setAAD(aad(keyId, ownerId));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}

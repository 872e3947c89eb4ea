// Signing secrets at rest. They must be recoverable to sign (a hash would not do), so with a
// server key (SWITCHBOARD_WEBHOOKS_SECRET_KEY) they are sealed with AES-256-GCM under it and a
// copy of the database alone cannot forge deliveries; without one they are stored as they are,
// protected like the rest of the database. Either way the API shows a secret once, never again.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const SEALED = 'sealed:v1:';

/** The AES key from the operator's key text (any length; hashed to 32 bytes). */
export function sealingKey(text: string | undefined): Buffer | undefined {
  return text ? createHash('sha256').update(text).digest() : undefined;
}

export function seal(secret: string, key: Buffer | undefined): string {
  if (!key) return secret;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return `${SEALED}${iv.toString('base64')}:${cipher.getAuthTag().toString('base64')}:${sealed.toString('base64')}`;
}

export class SecretUnavailable extends Error {}

export function unseal(stored: string, key: Buffer | undefined): string {
  if (!stored.startsWith(SEALED)) return stored;
  if (!key) throw new SecretUnavailable('the signing secret is sealed with a server key this instance is not given (SWITCHBOARD_WEBHOOKS_SECRET_KEY)');
  const [iv, tag, data] = stored.slice(SEALED.length).split(':').map((part) => Buffer.from(part, 'base64'));
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv!);
    decipher.setAuthTag(tag!);
    return Buffer.concat([decipher.update(data!), decipher.final()]).toString('utf8');
  } catch {
    throw new SecretUnavailable('the signing secret was sealed with another server key (SWITCHBOARD_WEBHOOKS_SECRET_KEY)');
  }
}

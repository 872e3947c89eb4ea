// Client accounts (tenants) and their tokens; used by the admin API and the CLI alike.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { AlreadyExists, ClientNotFound, InvalidField } from '../../errors.ts';
import { hashToken, newToken } from '../../domain/tokens.ts';
import { isValidTimeZone } from '../../domain/time.ts';
import { clientNameExists, insertClient, setClientTokenHash, storeKnowsTimeZone } from './repository.ts';
import { isUniqueViolation } from '../../db/errors.ts';

export interface ClientCredentials {
  ClientsID: number;
  Token: string;
}

export async function createClient(db: Kysely<Database>, input: { Name: string; TimeZone?: string }): Promise<ClientCredentials> {
  const timeZone = input.TimeZone ?? 'Europe/Berlin';
  if (!isValidTimeZone(timeZone) || !(await storeKnowsTimeZone(db, timeZone))) {
    throw new InvalidField('TimeZone', `unknown IANA time zone "${timeZone}" (use a name such as Europe/Berlin)`);
  }
  if (await clientNameExists(db, input.Name)) throw new AlreadyExists('Client', input.Name);
  const token = newToken('sbc');
  try {
    const { id } = await insertClient(db, input.Name, timeZone, hashToken(token));
    return { ClientsID: id, Token: token };
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExists('Client', input.Name);
    throw error;
  }
}

/** A new token replaces the stored hash, so the previous token fails from this moment on. */
export async function rotateClientToken(db: Kysely<Database>, clientId: number): Promise<ClientCredentials> {
  const token = newToken('sbc');
  if (!(await setClientTokenHash(db, clientId, hashToken(token)))) throw new ClientNotFound();
  return { ClientsID: clientId, Token: token };
}

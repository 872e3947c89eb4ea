// Dialler contacts: lookups and the one-contact import with optional overwrite by UserData.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { isForeignKeyViolation } from '../../db/errors.ts';
import { CampaignNotFound, ContactNotFound, InvalidField } from '../../errors.ts';
import { isPlausibleEmail, normalizePhoneNumber } from '../../domain/dialler.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { ImportContactInput } from './schemas.ts';
import {
  campaignIdOf, contactIdByUserData, contactTexts, insertContact, lockContactKey, overwriteContact, type ContactFields,
} from './repository.ts';

type Db = Kysely<Database>;

const PHONE_FIELDS = ['PhoneNumber1', 'PhoneNumber2', 'PhoneNumber3', 'PhoneNumber4', 'PhoneNumber5', 'PhoneNumber6'] as const;

export async function contactById(db: Db, client: ClientContext, id: number): Promise<string[]> {
  const texts = await contactTexts(db, client.id, id, client.timeZone);
  if (texts.length === 0) throw new ContactNotFound();
  return texts;
}

/** A campaign id given by the caller, checked to be one of the client's campaigns. */
export async function requireCampaign(db: Db, client: ClientContext, id: number): Promise<number> {
  const found = await campaignIdOf(db, client.id, { id });
  if (found === undefined) throw new CampaignNotFound();
  return found;
}

function checkFields(input: ImportContactInput): ContactFields {
  const phoneNumbers = PHONE_FIELDS.map((name) => {
    const raw = input[name];
    if (raw == null) return null;
    const number = normalizePhoneNumber(raw);
    if (!number.ok) throw new InvalidField(name, number.reason);
    return number.value;
  });
  if (phoneNumbers.every((n) => n === null)) throw new InvalidField('PhoneNumber1', 'at least one of PhoneNumber1..6 is required');
  const email = input.Email == null || input.Email.trim() === '' ? null : input.Email.trim();
  if (email !== null && !isPlausibleEmail(email)) throw new InvalidField('Email', `"${email}" is not an e-mail address`);
  return {
    name: input.Name,
    firstName: input.FirstName ?? null,
    email,
    phoneNumbers,
    userData: input.UserData ?? null,
  };
}

/** The campaign by ID or exact name; given both, they must name the same campaign. */
async function resolveCampaign(db: Db, client: ClientContext, input: ImportContactInput): Promise<number> {
  const { DiallerCampaignsID: id, DiallerCampaignsName: name } = input;
  if (id === undefined && name === undefined) throw new InvalidField('DiallerCampaignsID', 'DiallerCampaignsID or DiallerCampaignsName is required');
  const byId = id === undefined ? undefined : await requireCampaign(db, client, id);
  if (name === undefined) return byId!;
  const byName = await campaignIdOf(db, client.id, { name });
  if (byName === undefined) throw new CampaignNotFound();
  if (byId !== undefined && byId !== byName) throw new InvalidField('DiallerCampaignsName', `names another campaign than DiallerCampaignsID ${byId}`);
  return byName;
}

/**
 * Adds the contact, or with `overwrite` replaces the campaign's contact with the same UserData
 * (the oldest, should several exist). Without UserData there is nothing to match, so it adds.
 */
export async function importContact(db: Db, client: ClientContext, now: number, input: ImportContactInput, overwrite: boolean): Promise<string[]> {
  const fields = checkFields(input);
  const campaignId = await resolveCampaign(db, client, input);
  const at = new Date(now);
  let id: number;
  try {
    id = await db.transaction().execute(async (trx) => {
      if (overwrite && fields.userData !== null) {
        await lockContactKey(trx, campaignId, fields.userData);
        const existing = await contactIdByUserData(trx, campaignId, fields.userData);
        if (existing !== undefined) {
          await overwriteContact(trx, existing, fields, at);
          return existing;
        }
      }
      return insertContact(trx, client.id, campaignId, fields, at);
    });
  } catch (error) {
    // The campaign was deleted between the lookup and the insert.
    if (isForeignKeyViolation(error)) throw new CampaignNotFound();
    throw error;
  }
  return contactTexts(db, client.id, id, client.timeZone);
}

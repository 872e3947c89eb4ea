// Dialler contacts: lookups and the one-contact import with optional overwrite by UserData.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { isForeignKeyViolation } from '../../db/errors.ts';
import { CampaignNotFound, Conflict, ContactNotFound, InvalidField } from '../../errors.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { ImportContactInput } from './schemas.ts';
import { checkContact, prepareContacts } from './checks.ts';
import { campaignOf, contactTexts, type CampaignTarget } from './repository.ts';
import { writeBatch } from './write-batch.ts';

type Db = Kysely<Database>;

export async function contactById(db: Db, client: ClientContext, id: number): Promise<string[]> {
  const texts = await contactTexts(db, client.id, id, client.timeZone);
  if (texts.length === 0) throw new ContactNotFound();
  return texts;
}

/** A campaign id given by the caller, checked to be one of the client's campaigns. */
export async function requireCampaign(db: Db, client: ClientContext, id: number): Promise<number> {
  return (await requireCampaignTarget(db, client, { id })).id;
}

export async function requireCampaignTarget(db: Db, client: ClientContext, by: { id: number } | { name: string }): Promise<CampaignTarget> {
  const found = await campaignOf(db, client.id, by);
  if (found === undefined) throw new CampaignNotFound();
  return found;
}

/** The campaign by ID or exact name; given both, they must name the same campaign. */
export async function resolveCampaign(
  db: Db, client: ClientContext, id: number | undefined, name: string | undefined, fields = { id: 'DiallerCampaignsID', name: 'DiallerCampaignsName' },
): Promise<CampaignTarget> {
  if (id === undefined && name === undefined) throw new InvalidField(fields.id, `${fields.id} or ${fields.name} is required`);
  const byId = id === undefined ? undefined : await requireCampaignTarget(db, client, { id });
  if (name === undefined) return byId!;
  const byName = await requireCampaignTarget(db, client, { name });
  if (byId !== undefined && byId.id !== byName.id) throw new InvalidField(fields.name, `names another campaign than ${fields.id} ${byId.id}`);
  return byName;
}

export interface ImportAnswer {
  texts: string[];
  /** The fields whose numbers are on the do-not-call list (imported all the same). */
  doNotCall: string[];
}

/**
 * Adds the contact, or with `overwrite` replaces the campaign's contact with the same UserData
 * (the oldest, should several exist). Without UserData there is nothing to match, so it adds.
 */
export async function importContact(
  db: Db, client: ClientContext, now: number, input: ImportContactInput, options: { overwrite: boolean; reset: boolean },
): Promise<ImportAnswer> {
  const checked = checkContact(input);
  const campaign = await resolveCampaign(db, client, input.DiallerCampaignsID, input.DiallerCampaignsName);
  const at = new Date(now);
  const { prepared, rejected } = await prepareContacts(db, client.id, campaign.timeZone, [{ row: 1, contact: checked }], at);
  if (rejected[0]) throw new InvalidField(rejected[0].field ?? 'body', rejected[0].reason);
  let written: Awaited<ReturnType<typeof writeBatch>>;
  try {
    written = await db.transaction().execute((trx) => writeBatch(trx, client.id, campaign.id, prepared, { ...options, now: at, ids: true }));
  } catch (error) {
    // The campaign was deleted between the lookup and the insert.
    if (isForeignKeyViolation(error)) throw new CampaignNotFound();
    throw error;
  }
  if (written.rejected[0]) throw new Conflict(`Dialler contact: ${written.rejected[0].reason}`);
  const outcome = written.outcomes[0]!;
  return { texts: await contactTexts(db, client.id, outcome.target.id!, client.timeZone), doNotCall: outcome.doNotCall };
}

// Dialler campaigns: lookups, provisioning with inline result codes, clone and delete. Each
// write runs in one transaction, so a failure leaves nothing half-made.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { AlreadyExists, CampaignNotFound, Conflict, InvalidField } from '../../errors.ts';
import {
  checkTimeWindows, duplicateExportKeyIndex, parseLocalTimestamp, ResultCodeType, singleExactMatch,
  type LanguageId, type TimeWindow,
} from '../../domain/dialler.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { CreateCampaignInput } from './schemas.ts';
import {
  byId, campaignExists, campaignIdsNamed, campaignTexts, copyCampaignRow, copyResultCodes, copyTimeWindows,
  deleteCampaign, insertCampaign, insertResultCodes, insertTimeWindows, lockCampaign, nameContains,
  resultCodeTexts, setCampaignReferences, type CampaignSettings, type ResultCodeRow,
} from './repository.ts';

type Db = Kysely<Database>;

export async function campaignById(db: Db, client: ClientContext, id: number): Promise<string[]> {
  const texts = await campaignTexts(db, client.timeZone, byId(client.id, id));
  if (texts.length === 0) throw new CampaignNotFound();
  return texts;
}

export async function campaignsByName(db: Db, client: ClientContext, part: string): Promise<string[]> {
  const texts = await campaignTexts(db, client.timeZone, nameContains(client.id, part));
  if (texts.length === 0) throw new CampaignNotFound();
  return texts;
}

export async function resultCodesOf(db: Db, client: ClientContext, campaignId: number, language: LanguageId): Promise<string[]> {
  if (!(await campaignExists(db, client.id, campaignId))) throw new CampaignNotFound();
  return resultCodeTexts(db, client.id, campaignId, language, client.timeZone);
}

interface CheckedCampaign {
  settings: CampaignSettings;
  codes: ResultCodeRow[];
  abortOnNoTelNumber: string | null;
  incomingCall: string | null;
  windows: TimeWindow[];
}

/** Everything that can be refused without the database, refused before the transaction. */
function checkCreate(input: CreateCampaignInput, timeZone: string): CheckedCampaign {
  let dtTo: Date | null = null;
  if (input.dtTo != null) {
    const parsed = parseLocalTimestamp(input.dtTo, timeZone);
    if (!parsed.ok) throw new InvalidField('dtTo', parsed.reason);
    dtTo = parsed.value;
  }
  const codes = input.ResultCodes ?? [];
  const duplicate = duplicateExportKeyIndex(codes.map((c) => c.ExportKey));
  if (duplicate !== undefined) throw new InvalidField(`ResultCodes.${duplicate}.ExportKey`, `"${codes[duplicate].ExportKey}" is given twice`);
  for (const [index, c] of codes.entries()) {
    if (c.TimeOffset != null && c.DiallerResultCodesTypesID !== ResultCodeType.Delay) {
      throw new InvalidField(`ResultCodes.${index}.TimeOffset`, 'applies to Delay result codes (type 3) only');
    }
  }
  const keys = new Set(codes.map((c) => c.ExportKey));
  for (const name of ['AbortOnNoTelNumberResultCode', 'IncomingCallResultCode'] as const) {
    const key = input[name];
    if (key != null && !keys.has(key)) throw new InvalidField(name, `no result code with ExportKey "${key}" in ResultCodes`);
  }
  const windows = checkTimeWindows(input.TimeWindows ?? []);
  if (!windows.ok) throw new InvalidField(windows.field ?? 'TimeWindows', windows.reason);
  return {
    settings: {
      name: input.Name,
      languagesId: input.LanguagesID ?? 1,
      contactPreviewTime: input.ContactPreviewTime ?? null,
      nMaxParallelLines: input.nMaxParallelLines ?? null,
      bCloseContactsOnIncomingCallsMatchCallerId: input.bCloseContactsOnIncomingCallsMatchCallerID ?? false,
      dtTo,
      bCallerIdActive: input.bCallerIDActive ?? false,
      userData: input.UserData ?? null,
    },
    codes: codes.map((c) => ({
      exportKey: c.ExportKey,
      typeId: c.DiallerResultCodesTypesID,
      timeOffset: c.TimeOffset ?? null,
      bAgentBound: c.bAgentBound ?? null,
      bAllowDelete: c.bAllowDelete ?? true,
      texts: c.Content,
    })),
    abortOnNoTelNumber: input.AbortOnNoTelNumberResultCode ?? null,
    incomingCall: input.IncomingCallResultCode ?? null,
    windows: windows.value,
  };
}

/** Runs `work`, turning a unique-name race lost to a concurrent request into the same 409. */
async function uniqueName<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExists('Dialler campaign', name);
    throw error;
  }
}

export async function createCampaign(db: Db, client: ClientContext, now: number, input: CreateCampaignInput): Promise<string[]> {
  const checked = checkCreate(input, client.timeZone);
  const id = await uniqueName(input.Name, () => db.transaction().execute(async (trx) => {
    if ((await campaignIdsNamed(trx, client.id, input.Name)).length > 0) throw new AlreadyExists('Dialler campaign', input.Name);
    const campaignId = await insertCampaign(trx, client.id, checked.settings, new Date(now));
    const codeIds = await insertResultCodes(trx, campaignId, checked.codes);
    const ref = (key: string | null) => (key === null ? null : codeIds.get(key)!);
    if (checked.abortOnNoTelNumber !== null || checked.incomingCall !== null) {
      await setCampaignReferences(trx, campaignId, ref(checked.abortOnNoTelNumber), ref(checked.incomingCall));
    }
    await insertTimeWindows(trx, campaignId, checked.windows);
    return campaignId;
  }));
  return campaignTexts(db, client.timeZone, byId(client.id, id));
}

export interface CloneInput {
  source: string;
  destination: string;
  userData: string;
}

/**
 * Copies settings, result codes with all texts and time windows, never contacts. The source is
 * share-locked so a concurrent delete cannot leave the copy half-filled; two clones racing to
 * the same destination meet at the unique (client, name) index, and the loser answers 409.
 */
export async function cloneCampaign(db: Db, client: ClientContext, now: number, input: CloneInput): Promise<string[]> {
  const id = await uniqueName(input.destination, () => db.transaction().execute(async (trx) => {
    const sources = await campaignIdsNamed(trx, client.id, input.source, 'share');
    if (sources.length === 0) throw new CampaignNotFound();
    if ((await campaignIdsNamed(trx, client.id, input.destination)).length > 0) throw new AlreadyExists('Dialler campaign', input.destination);
    const sourceId = sources[0];
    const copyId = await copyCampaignRow(trx, sourceId, input.destination, input.userData, new Date(now));
    await copyResultCodes(trx, sourceId, copyId);
    await copyTimeWindows(trx, sourceId, copyId);
    return copyId;
  }));
  return campaignTexts(db, client.timeZone, byId(client.id, id));
}

export async function deleteCampaignById(db: Db, client: ClientContext, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (!(await lockCampaign(trx, client.id, id))) throw new CampaignNotFound();
    await deleteCampaign(trx, client.id, id);
  });
}

export async function deleteCampaignByName(db: Db, client: ClientContext, name: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const match = singleExactMatch(await campaignIdsNamed(trx, client.id, name, 'update'));
    if (!match.ok) {
      if (match.status === 409) throw new Conflict(`Several dialler campaigns are named "${name}"; delete by ID`);
      throw new CampaignNotFound();
    }
    await deleteCampaign(trx, client.id, match.value);
  });
}

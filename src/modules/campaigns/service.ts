// Dialler campaigns: lookups, provisioning with inline result codes, clone and delete (a change
// of settings is in update.ts). Each write runs in one transaction, so a failure leaves nothing
// half-made.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { Store } from '../../db/store.ts';
import { announceChanges } from '../../db/changes.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { forgetCampaignConfig } from '../../dialler/sql/campaign-config.ts';
import { AlreadyExists, CampaignNotFound, Conflict, InvalidField } from '../../errors.ts';
import {
  checkTimeWindows, duplicateExportKeyIndex, parseLocalTimestamp, ResultCodeType, singleExactMatch,
  type LanguageId, type TimeWindow, type TimeWindowInput,
} from '../../domain/dialler.ts';
import { isValidZone } from '../../domain/dialler-calendar.ts';
import type { ClientContext } from '../../http/auth.ts';
import { storeKnowsTimeZone } from '../clients/repository.ts';
import type { CreateCampaignInput } from './schemas.ts';
import {
  byId, campaignExists, campaignIdsNamed, campaignTexts, clientHasGroup, copyCampaignRow, copyRestrictedPeriods, copyResultCodes,
  copyTimeWindows, deleteCampaign, insertCampaign, insertRestrictedPeriods, insertResultCodes, insertTimeWindows, lockCampaign,
  nameContains, resultCodeTexts, setCampaignReferences, type CampaignSettings, type ResultCodeRow,
} from './repository.ts';
import { checkRestrictedPeriods, mergeRetryDelays, SETTING_DEFAULTS, type RestrictedPeriod, type RestrictedPeriodInput } from './settings.ts';

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
  periods: RestrictedPeriod[];
}

/** `dtTo` as an instant: the client writes it in its own local time. */
export function checkDtTo(dtTo: string | null, timeZone: string): Date | null {
  if (dtTo === null) return null;
  const parsed = parseLocalTimestamp(dtTo, timeZone);
  if (!parsed.ok) throw new InvalidField('dtTo', parsed.reason);
  return parsed.value;
}

export function checkWindows(windows: readonly TimeWindowInput[]): TimeWindow[] {
  const checked = checkTimeWindows(windows);
  if (!checked.ok) throw new InvalidField(checked.field ?? 'TimeWindows', checked.reason);
  return checked.value;
}

export function checkPeriods(periods: readonly RestrictedPeriodInput[]): RestrictedPeriod[] {
  const checked = checkRestrictedPeriods(periods);
  if (!checked.ok) throw new InvalidField(checked.field, checked.reason);
  return checked.value;
}

/**
 * A campaign zone must be known to JavaScript (the engine's calendar) and to the store (which
 * formats contacts' local times): a zone only one of them knows would schedule wrongly.
 */
export async function checkZone(db: Db, zone: string | null | undefined): Promise<void> {
  if (zone == null) return;
  if (!isValidZone(zone) || !(await storeKnowsTimeZone(db, zone))) {
    throw new InvalidField('TimeZone', `unknown IANA time zone "${zone}" (use a name such as Europe/Berlin, or null for the client's zone)`);
  }
}

/** Inside the writing transaction, so the group cannot go before the campaign refers to it. */
export async function checkGroup(db: Db, clientId: number, groupId: number | null | undefined): Promise<void> {
  if (groupId != null && !(await clientHasGroup(db, clientId, groupId))) {
    throw new InvalidField('AcdGroupsID', `no ACD group ${groupId} in this client`);
  }
}

/** Everything that can be refused without the database, refused before the transaction. */
function checkCreate(input: CreateCampaignInput, timeZone: string): CheckedCampaign {
  const dtTo = checkDtTo(input.dtTo ?? null, timeZone);
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
  const windows = checkWindows(input.TimeWindows ?? []);
  const periods = checkPeriods(input.RestrictedPeriods ?? []);
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
      mode: input.Mode ?? SETTING_DEFAULTS.mode,
      groupId: input.AcdGroupsID ?? null,
      maxTries: input.nMaxTries ?? SETTING_DEFAULTS.maxTries,
      maxTriesPerNumber: input.nMaxTriesPerNumber ?? SETTING_DEFAULTS.maxTriesPerNumber,
      maxTriesPerDay: input.nMaxTriesPerDay ?? SETTING_DEFAULTS.maxTriesPerDay,
      retryDelays: mergeRetryDelays(undefined, input.RetryDelays),
      timeZone: input.TimeZone ?? null,
      running: input.bRunning ?? SETTING_DEFAULTS.running,
      weight: input.Weight ?? SETTING_DEFAULTS.weight,
      appointmentFallbackMinutes: input.AppointmentFallbackMinutes ?? null,
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
    windows,
    periods,
  };
}

/** Runs `work`, turning a unique-name race lost to a concurrent request into the same 409. */
export async function uniqueName<T>(name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUniqueViolation(error)) throw new AlreadyExists('Dialler campaign', name);
    throw error;
  }
}

export async function createCampaign(db: Db, client: ClientContext, now: number, input: CreateCampaignInput): Promise<string[]> {
  const checked = checkCreate(input, client.timeZone);
  await checkZone(db, input.TimeZone);
  const id = await uniqueName(input.Name, () => db.transaction().execute(async (trx) => {
    if ((await campaignIdsNamed(trx, client.id, input.Name)).length > 0) throw new AlreadyExists('Dialler campaign', input.Name);
    await checkGroup(trx, client.id, input.AcdGroupsID);
    const campaignId = await insertCampaign(trx, client.id, checked.settings, new Date(now));
    const codeIds = await insertResultCodes(trx, campaignId, checked.codes);
    const ref = (key: string | null) => (key === null ? null : codeIds.get(key)!);
    if (checked.abortOnNoTelNumber !== null || checked.incomingCall !== null) {
      await setCampaignReferences(trx, campaignId, ref(checked.abortOnNoTelNumber), ref(checked.incomingCall));
    }
    await insertTimeWindows(trx, campaignId, checked.windows);
    await insertRestrictedPeriods(trx, campaignId, checked.periods);
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
 * Copies settings, result codes with all texts, time windows and restricted periods, never
 * contacts; the copy starts paused (a template, see copyCampaignRow). The source is
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
    await copyRestrictedPeriods(trx, sourceId, copyId);
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

/**
 * Tells the dialler engine that a campaign's settings changed: this process forgets its cached
 * config at once, and a notice for the client wakes the engine on every instance (the others'
 * cached configs run out within CONFIG_TTL_MS). Call it once the change has committed.
 */
export async function campaignChanged(app: { store: Pick<Store, 'db'> }, clientId: number, campaignId: number): Promise<void> {
  forgetCampaignConfig(app.store.db, campaignId);
  await announceChanges(app.store.db, [{ clientId, agentId: null, distribute: true }]);
}

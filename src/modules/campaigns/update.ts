// A change of a campaign's settings (PATCH): any create field but the result codes, in one
// transaction on the locked campaign. Fields left out keep their value, null clears, lists are
// replaced whole, retry delays merge per cause.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { AlreadyExists, CampaignNotFound, InvalidField } from '../../errors.ts';
import type { ClientContext } from '../../http/auth.ts';
import type { UpdateCampaignInput } from './schemas.ts';
import {
  byId, campaignIdsNamed, campaignTexts, lockCampaignForChange, moveCampaignZoneContacts, replaceRestrictedPeriods,
  replaceTimeWindows, resultCodeIdByKey, updateCampaignRow, type CampaignChanges,
} from './repository.ts';
import { checkDtTo, checkGroup, checkPeriods, checkWindows, checkZone, uniqueName } from './service.ts';
import { mergeRetryDelays } from './settings.ts';

type Db = Kysely<Database>;

/** Body fields stored as given, by column. */
const PLAIN_COLUMNS = {
  Name: 'name',
  LanguagesID: 'languages_id',
  ContactPreviewTime: 'contact_preview_time',
  nMaxParallelLines: 'n_max_parallel_lines',
  bCloseContactsOnIncomingCallsMatchCallerID: 'b_close_contacts_on_incoming_calls_match_caller_id',
  bCallerIDActive: 'b_caller_id_active',
  UserData: 'user_data',
  Mode: 'mode',
  AcdGroupsID: 'group_id',
  nMaxTries: 'n_max_tries',
  nMaxTriesPerNumber: 'n_max_tries_per_number',
  nMaxTriesPerDay: 'n_max_tries_per_day',
  TimeZone: 'time_zone',
  bRunning: 'b_running',
  Weight: 'weight',
  AppointmentFallbackMinutes: 'appointment_fallback_minutes',
} as const satisfies Partial<Record<keyof UpdateCampaignInput, keyof CampaignChanges>>;

const CODE_REFERENCES = {
  AbortOnNoTelNumberResultCode: 'abort_on_no_tel_number_result_code_id',
  IncomingCallResultCode: 'incoming_call_result_code_id',
} as const;

export async function updateCampaign(db: Db, client: ClientContext, now: number, id: number, input: UpdateCampaignInput): Promise<string[]> {
  // Everything that can be refused without the campaign, refused before the transaction.
  const dtTo = input.dtTo === undefined ? undefined : checkDtTo(input.dtTo, client.timeZone);
  const windows = input.TimeWindows && checkWindows(input.TimeWindows);
  const periods = input.RestrictedPeriods && checkPeriods(input.RestrictedPeriods);
  await checkZone(db, input.TimeZone);

  await uniqueName(input.Name ?? '', () => db.transaction().execute(async (trx) => {
    const current = await lockCampaignForChange(trx, client.id, id);
    if (!current) throw new CampaignNotFound();
    if (input.Name !== undefined && input.Name !== current.name && (await campaignIdsNamed(trx, client.id, input.Name)).length > 0) {
      throw new AlreadyExists('Dialler campaign', input.Name);
    }
    await checkGroup(trx, client.id, input.AcdGroupsID);

    const changes: Record<string, unknown> = { updated_at: new Date(now) };
    for (const [field, column] of Object.entries(PLAIN_COLUMNS)) {
      const value = input[field as keyof typeof PLAIN_COLUMNS];
      if (value !== undefined) changes[column] = value;
    }
    if (dtTo !== undefined) changes.dt_to = dtTo;
    if (input.RetryDelays !== undefined) changes.retry_delays = JSON.stringify(mergeRetryDelays(current.retryDelays, input.RetryDelays));
    for (const [field, column] of Object.entries(CODE_REFERENCES)) {
      const key = input[field as keyof typeof CODE_REFERENCES];
      if (key === undefined) continue;
      const codeId = key === null ? null : await resultCodeIdByKey(trx, id, key);
      if (codeId === undefined) throw new InvalidField(field, `the campaign has no result code with ExportKey "${key}"`);
      changes[column] = codeId;
    }
    await updateCampaignRow(trx, id, changes as CampaignChanges);

    if (windows) await replaceTimeWindows(trx, id, windows);
    if (periods) await replaceRestrictedPeriods(trx, id, periods);
    if (input.TimeZone !== undefined && input.TimeZone !== current.timeZone) await moveCampaignZoneContacts(trx, id, new Date(now));
  }));
  const texts = await campaignTexts(db, client.timeZone, byId(client.id, id));
  // Deleted between the commit and this read.
  if (texts.length === 0) throw new CampaignNotFound();
  return texts;
}

// jtel record definition of dialler contacts (spec §5.3) with the dialler state (§8.1, §8.2).
// A list of a million contacts streams through this projection, so every field is a column of
// the contact row; only the two UIDs look a user up, and only for contacts that name one.
import { defineRecord, field, type FieldDef } from '../../http/records.ts';
import { PHONE_SLOTS } from '../../domain/dialler-contact.ts';

const SLOTS = Array.from({ length: PHONE_SLOTS }, (_, i) => i + 1);

function perSlot(make: (n: number) => [string, FieldDef]): Record<string, FieldDef> {
  return Object.fromEntries(SLOTS.map(make));
}

/** The UID of the user in `column`; the CASE skips the lookup for the many contacts naming none. */
const uidOf = (column: string) => `CASE WHEN ${column} IS NULL THEN NULL ELSE (SELECT u.uid FROM users u WHERE u.id = ${column}) END`;

export const ContactRecord = defineRecord(
  'DiallerContact',
  {
    ID: field.int('k.id'),
    DiallerCampaignsID: field.int('k.campaign_id'),
    Name: field.text('k.name'),
    FirstName: field.text('k.first_name', { nullable: true }),
    Email: field.text('k.email', { nullable: true }),
    ...perSlot((n) => [`PhoneNumber${n}`, field.text(`k.phone_number${n}`, { nullable: true })]),
    UserData: field.text('k.user_data', { nullable: true }),
    TimeZone: field.text('k.time_zone', { description: 'IANA zone whose local time the windows apply in' }),
    TimeZoneSource: field.text('k.time_zone_source', { description: 'Contact (given at import), Country (of the first number), Campaign' }),
    Priority: field.int('k.priority', { description: '-1000..1000; higher first among contacts due at the same time' }),
    State: field.text('k.state', { description: 'Waiting, InProgress (held by an agent or a dialler), Done, Aborted' }),
    nTries: field.int('k.n_tries', { description: 'attempts on all numbers' }),
    ...perSlot((n) => [`nTriesPhoneNumber${n}`, field.int(`k.n_tries_phone_number${n}`)]),
    ...perSlot((n) => [`nPhoneNumber${n}LastCause`, field.int(`k.n_phone_number${n}_last_cause`, {
      nullable: true, description: 'system cause of the last attempt: 0 connected, 1 busy, 2 no answer, 3 answering machine, 4 invalid number, 5 other',
    })]),
    ...perSlot((n) => [`bPhoneNumber${n}Invalid`, field.bool(`k.b_phone_number${n}_invalid`)]),
    // -infinity is "due at once": null on the wire (so, like every null, last in an ascending list).
    dtNextTry: field.timestamp("nullif(k.dt_next_try, '-infinity')", { nullable: true, description: 'when the contact is due next; null: at once' }),
    ReservedUsersUID: field.text(uidOf('k.reserved_user_id'), { nullable: true, description: 'never-tried contact reserved for this agent' }),
    FollowUpUsersUID: field.text(uidOf('k.follow_up_user_id'), { nullable: true, description: 'agent an agent-bound delay or appointment belongs to' }),
    FollowUpDateTime: field.timestamp('k.follow_up_at', { nullable: true, description: 'the appointment' }),
    ResultCodesID: field.int('k.result_code_id', { nullable: true }),
    ResultCodesExportKey: field.text('k.result_export_key', { nullable: true }),
    ClosedReason: field.text('k.closed_reason', { nullable: true, description: 'why a Done/Aborted contact closed: Result, NoNumber, TriesExhausted, IncomingCall, NeverOpen' }),
    HeldByUsersID: field.int('k.holder_user_id', { nullable: true, description: 'the agent holding an InProgress contact (null: a dialler, or nobody)' }),
    dtCreated: field.timestamp('k.created_at'),
    dtLastModified: field.timestamp('k.updated_at'),
  },
  { from: 'dialler_contacts k', clientColumn: 'k.client_id', idColumn: 'k.id', defaultOrderBy: 'ID' },
);

/** Fields the import takes; every other field of the record is the dialler's (export-only). */
export const IMPORTED_FIELDS = [
  'Name', 'FirstName', 'Email', ...SLOTS.map((n) => `PhoneNumber${n}`), 'UserData', 'TimeZone', 'Priority', 'ReservedUsersUID',
] as const;

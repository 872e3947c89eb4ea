// Generators and checks shared by the endpoint properties: odd text and numbers, "near-valid"
// bodies (a valid body with a field or two broken), a one-query snapshot of everything a client
// owns, and the wire rules every answer must keep.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql, type Kysely } from 'kysely';
import type { LightMyRequestResponse } from 'fastify';
import type { TSchema } from 'typebox';
import type { Database } from '../src/db/schema.ts';
import { conformsTo } from './fixtures-events.ts';
import type { Harness, TestClient } from './helper.ts';
import { campaignBody } from './fixtures-dialler.ts';

/** Any UTF-16 code unit, with the ones storage chokes on (NUL, lone surrogates) often. */
const codeUnit = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0001', '\u000b', '\uffff', '\u00a0', ' ', '%', '_', '\\', "'") },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
);
export const anyText = (maxLength: number) => fc.string({ unit: codeUnit, maxLength });
/** Text a person could type: never blank-edged, so it satisfies the Name patterns. */
export const word = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,14}[A-Za-z0-9]$/) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }).map((s) => `A${s}Z`) },
  { weight: 1, arbitrary: anyText(6).map((s) => `A${s}Z`) },
);

/** A number literal put into the JSON text as written, for what JSON.stringify cannot say. */
export class Raw {
  readonly text: string;
  constructor(text: string) { this.text = text; }
}
const rawNumber = fc.constantFrom('1e400', '-1e400', '1e-400', '-0', '1.0', '1.5', '1E1', '12345678901234567890', '2147483648', '-2147483649', '9007199254740993')
  .map((t) => new Raw(t));

/** Arbitrary JSON values, as deep and odd as a confused client sends. */
export const wild = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }), anyText(20), fc.integer(), fc.double(), fc.constant(null), fc.boolean(),
  fc.constantFrom(2 ** 31, -(2 ** 31) - 1, Number.MAX_SAFE_INTEGER, -1, 0, 1e21, 0.5), rawNumber,
);

/** Values that sit right at, or just past, the limits the schemas draw. */
export const edge = fc.constantFrom<unknown>(
  0, -1, 1, 2, 3, 4, 5, 7, 100, 101, 86400, 86401, 525600, 525601, 10000, 10001, 2147483647, 2147483648, -2147483648, 1.5,
  '', ' ', 'x ', ' x', '1', 'true', 'null', true, false, null, [], {}, [1], { 1: 'x' }, 'x'.repeat(257), 'x'.repeat(1025),
  'Standalone', 'Agent', 'Configuration', 'agent', 'a\u0000b', '\ud800', 'a\udc00b', '00:00', '24:00', '23:60', '7:00',
  '2026-02-30T10:00', '0050-01-01T00:00', '2026-12-31T18:00:00.000', '2026-12-31T18:00:00.0000', '2026-12-31 18:00',
  '+49 30 1234567', '+0123', '12', '+1234567890123456', '(030) 123-45', 'a@b.c', 'not-an-email', 'DONE', 'NOTEL',
);

export const DROP = Symbol('drop');
export type Mutation = [path: string[], value: unknown];

/**
 * Applies mutations to a copy; a path through something that is no object (or no small index of
 * an array) is skipped. Values are
 * copied in too: `edge` hands out the same `{}` and `[]` every time, and a later mutation writing
 * into one (or into itself: Skills ← {}, then Skills.x ← that {}) would change it for every run
 * after, or make the body circular.
 */
export function mutate(body: Record<string, unknown>, mutations: readonly Mutation[]): Record<string, unknown> {
  const out = structuredClone(body);
  for (const [path, value] of mutations) {
    let node: unknown = out;
    for (const key of path.slice(0, -1)) node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    if (node === null || typeof node !== 'object') continue;
    const last = path[path.length - 1];
    // A field path that meets an array (a value put in by an earlier mutation) names an element
    // only by a small index: Skills ← [], then Skills.2147483648 ← x would make a 2^31-long array.
    if (Array.isArray(node) && !/^\d{1,3}$/.test(last)) continue;
    if (value === DROP) delete (node as Record<string, unknown>)[last];
    else (node as Record<string, unknown>)[last] = value !== null && typeof value === 'object' && !(value instanceof Raw) ? structuredClone(value) : value;
  }
  return out;
}

/**
 * (b) a valid body with up to two fields replaced by a wrong-typed or out-of-range value, removed,
 * or added; mixed with (a) arbitrary JSON, top-level and as a whole object.
 */
export function bodyArb(valid: fc.Arbitrary<Record<string, unknown>>, paths: readonly string[][], values: fc.Arbitrary<unknown>) {
  const value = fc.oneof({ weight: 3, arbitrary: values }, { weight: 3, arbitrary: edge }, { weight: 2, arbitrary: wild }, { weight: 2, arbitrary: fc.constant(DROP) });
  const path = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...paths) }, { weight: 1, arbitrary: fc.constantFrom<string[]>(['Extra'], ['id'], ['ID'], ['name']) });
  const mutations = fc.oneof(fc.constant<Mutation[]>([]), fc.array(fc.tuple(path, value), { minLength: 1, maxLength: 2 }));
  const nearValid = fc.tuple(valid, mutations).map(([body, ms]) => mutate(body, ms) as unknown);
  const fieldNames = [...new Set(paths.map((p) => p[0]))];
  const wildObject = fc.dictionary(fc.oneof(fc.constantFrom(...fieldNames), anyText(6)), wild, { maxKeys: 4 });
  return fc.oneof({ weight: 8, arbitrary: nearValid }, { weight: 1, arbitrary: wildObject }, { weight: 1, arbitrary: wild });
}

/** JSON text of `body`, with Raw literals spliced in and, when `cut`, the last character lost. */
export function jsonText(body: unknown, cut = false): string {
  const raws: string[] = [];
  const text = JSON.stringify(body, (_key, v: unknown) => (v instanceof Raw ? `\u0000RAW${raws.push(v.text) - 1}` : v)) ?? 'null';
  const spliced = text.replace(/"\\u0000RAW(\d+)"/g, (_m, i: string) => raws[Number(i)]);
  return cut ? spliced.slice(0, -1) : spliced;
}

export function send(c: TestClient, method: 'POST' | 'PATCH' | 'PUT', path: string, body: unknown, cut = false) {
  return c.request(method, path, jsonText(body, cut), { 'content-type': 'application/json' });
}

/** Everything the client owns (records, events with their history, agents' state and sessions), as one JSON text, read in one query. */
export async function snapshot(db: Kysely<Database>, clientId: number): Promise<string> {
  const { rows } = await sql<{ s: string }>`SELECT json_build_object(
      'groups', (SELECT json_agg(g ORDER BY g.id) FROM acd_groups g WHERE g.client_id = ${clientId}),
      'users', (SELECT json_agg(u ORDER BY u.id) FROM users u WHERE u.client_id = ${clientId}),
      'members', (SELECT json_agg(m ORDER BY m.group_id, m.user_id) FROM acd_group_members m JOIN acd_groups g ON g.id = m.group_id WHERE g.client_id = ${clientId}),
      'campaigns', (SELECT json_agg(c ORDER BY c.id) FROM dialler_campaigns c WHERE c.client_id = ${clientId}),
      'codes', (SELECT json_agg(r ORDER BY r.id) FROM dialler_result_codes r JOIN dialler_campaigns c ON c.id = r.campaign_id WHERE c.client_id = ${clientId}),
      'texts', (SELECT json_agg(t ORDER BY t.result_code_id, t.languages_id) FROM dialler_result_code_texts t
                JOIN dialler_result_codes r ON r.id = t.result_code_id JOIN dialler_campaigns c ON c.id = r.campaign_id WHERE c.client_id = ${clientId}),
      'windows', (SELECT json_agg(w ORDER BY w.id) FROM dialler_time_windows w JOIN dialler_campaigns c ON c.id = w.campaign_id WHERE c.client_id = ${clientId}),
      'contacts', (SELECT json_agg(k ORDER BY k.id) FROM dialler_contacts k WHERE k.client_id = ${clientId}),
      'events', (SELECT json_agg(e ORDER BY e.id) FROM acd_events e WHERE e.client_id = ${clientId}),
      'comments', (SELECT json_agg(x ORDER BY x.id) FROM acd_event_comments x JOIN acd_events e ON e.id = x.event_id WHERE e.client_id = ${clientId}),
      'history', (SELECT json_agg(x ORDER BY x.id) FROM acd_event_history x JOIN acd_events e ON e.id = x.event_id WHERE e.client_id = ${clientId}),
      'client', (SELECT row_to_json(c) FROM clients c WHERE c.id = ${clientId}),
      'agents', (SELECT json_agg(json_build_object('state', s, 'password', p, 'sessions',
          (SELECT json_agg(x ORDER BY x.id) FROM agent_sessions x WHERE x.user_id = u.id),
          'logins', (SELECT json_agg(x ORDER BY x.group_id) FROM agent_group_logins x WHERE x.user_id = u.id)) ORDER BY u.id)
        FROM users u LEFT JOIN agent_states s ON s.user_id = u.id LEFT JOIN agent_credentials p ON p.user_id = u.id WHERE u.client_id = ${clientId}),
      'agentHistory', (SELECT json_agg(x ORDER BY x.id) FROM agent_state_history x WHERE x.client_id = ${clientId}),
      'feed', (SELECT count(*) FROM push_messages m WHERE m.client_id = ${clientId})
    )::text AS s`.execute(db);
  return rows[0].s;
}

export const clientsSnapshot = async (db: Kysely<Database>) =>
  JSON.stringify(await db.selectFrom('clients').select(['id', 'name', 'time_zone', 'token_hash']).orderBy('id').execute());

const checkers = new Map<TSchema, (value: unknown) => void>();
const checkerOf = (schema: TSchema) => checkers.get(schema) ?? checkers.set(schema, conformsTo(schema)).get(schema)!;

/**
 * The wire rules: never a 5xx; every answer JSON whose `status` is the HTTP status; an error has
 * a non-empty `error` (naming the field when it lists one); a 200's records fit `schema`.
 */
export function checkAnswer(res: LightMyRequestResponse, request: string, schema?: TSchema): Record<string, any> {
  const where = `${request} → ${res.statusCode} ${res.body.slice(0, 400)}`;
  assert.ok(res.statusCode < 500, where);
  let answer: Record<string, any>;
  try {
    answer = res.json();
  } catch {
    return assert.fail(`not JSON: ${where}`);
  }
  assert.equal(answer.status, res.statusCode, where);
  if (res.statusCode !== 200) {
    assert.ok(typeof answer.error === 'string' && answer.error.length > 0, where);
    if (Array.isArray(answer.details) && answer.details.length > 0) assert.ok(answer.error.includes(answer.details[0].field), where);
    return answer;
  }
  if (schema) {
    assert.ok(Array.isArray(answer.records) && answer.records.length === answer.count, where);
    for (const record of answer.records) checkerOf(schema)(record);
  }
  return answer;
}

/** Status counts of a property, to show it reached both outcomes and is not vacuous. */
export class Tally {
  readonly seen = new Map<number, number>();
  add(status: number): void { this.seen.set(status, (this.seen.get(status) ?? 0) + 1); }
  assertReached(...statuses: number[]): void {
    for (const s of statuses) assert.ok((this.seen.get(s) ?? 0) > 0, `never answered ${s}: ${JSON.stringify([...this.seen])}`);
  }
}

export interface Tenant {
  client: TestClient;
  groupNames: string[];
  uids: string[];
  standaloneId: number;
  agentId: number;
  configurationId: number;
  userIds: number[];
  campaigns: { id: number; name: string }[];
  contactIds: number[];
}

let tenantSeq = 0;

/** A client with a little of everything, made through the API. */
export async function seedTenant(h: Harness): Promise<Tenant> {
  const client = await h.newClient();
  const n = ++tenantSeq;
  const ok = async (res: Promise<LightMyRequestResponse>) => {
    const r = await res;
    assert.equal(r.statusCode, 200, r.body);
    return r.json().records[0] as Record<string, any>;
  };
  const standalone = await ok(client.post('/acd/groups/create', { Name: `Sales ${n}`, bAvoidDuplicateEvents: true }));
  const agent = await ok(client.post('/acd/groups/create', { Name: `Agents ${n}`, GroupType: 'Agent' }));
  const configuration = await ok(client.post('/acd/groups/create', { Name: `Hotline ${n}`, GroupType: 'Configuration', PrimaryAgentGroupsID: agent.ID }));
  const userIds: number[] = [];
  for (const uid of [`anna${n}`, `ben${n}`]) userIds.push((await ok(client.post('/users/create', { UID: uid, Email: `${uid}@example.com` }))).ID);
  await ok(client.request('PUT', `/acd/groups/group/${agent.ID}/members/${userIds[0]}`, { Skills: { 12: 80 } }));
  const campaigns: Tenant['campaigns'] = [];
  for (const name of [`Spring ${n}`, `Autumn_% ${n}`]) campaigns.push({ id: (await ok(client.post('/dialler/campaigns/create', campaignBody(name)))).ID, name });
  const contactIds: number[] = [];
  for (const [i, campaign] of campaigns.entries()) {
    const body = { Name: `Contact ${i}`, DiallerCampaignsID: campaign.id, PhoneNumber1: '+49301234567', UserData: `K${i}` };
    contactIds.push((await ok(client.post('/dialler/contacts/import', body))).ID);
  }
  return {
    client, groupNames: [standalone.Name, agent.Name, configuration.Name], uids: [`anna${n}`, `ben${n}`],
    standaloneId: standalone.ID, agentId: agent.ID, configurationId: configuration.ID, userIds, campaigns, contactIds,
  };
}

// Valid bodies per endpoint. Optional fields come and go, so "absent" is exercised too.
const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const positiveId = fc.integer({ min: 1, max: 2147483647 });
const email = fc.oneof(fc.constantFrom('anna@example.com', 'first.last+tag@sub.example.org'), fc.emailAddress());

export const GROUP_FIELDS = [
  'Name', 'GroupType', 'PrimaryAgentGroupsID', 'ForeignSystemID', 'DistributionAlgorithmID', 'ServiceLevelSeconds', 'QueueMusicID4Sec',
  'SupervisorAggregationSkill5ID', 'bPositionAnnouncement3', 'TarifAnnouncementWavesID', 'bCallRedirectionAfterNumberAnnouncement',
  'bAvoidDuplicateEvents', 'OfferTimeoutSeconds',
];

export function groupBody(t: Tenant, forUpdate: boolean) {
  const typed = fc.constantFrom<Record<string, unknown>>({}, { GroupType: 'Standalone' }, { GroupType: 'Agent' }, { GroupType: 'Configuration', PrimaryAgentGroupsID: t.agentId });
  const fields = fc.record({
    Name: word, ForeignSystemID: opt(word), DistributionAlgorithmID: fc.integer({ min: 1, max: 3 }), ServiceLevelSeconds: fc.integer({ min: 0, max: 86400 }),
    QueueMusicID4Sec: opt(int32), SupervisorAggregationSkill5ID: opt(int32), bPositionAnnouncement3: fc.boolean(), TarifAnnouncementWavesID: opt(int32),
    bCallRedirectionAfterNumberAnnouncement: fc.boolean(), bAvoidDuplicateEvents: fc.boolean(), OfferTimeoutSeconds: fc.integer({ min: 1, max: 86400 }),
  }, { requiredKeys: forUpdate ? [] : ['Name'] });
  return fc.tuple(fields, typed).map(([f, ty]): Record<string, unknown> => {
    const body = { ...f, ...ty };
    return Object.keys(body).length > 0 ? body : { bAvoidDuplicateEvents: true };
  });
}

export const USER_FIELDS = ['UID', 'FirstName', 'LastName', 'Email', 'TelStatusID', 'ResellersID'];

export function userBody(forUpdate: boolean) {
  return fc.record({
    UID: word, FirstName: opt(word), LastName: opt(word), Email: opt(email),
    TelStatusID: fc.integer({ min: 0, max: 2147483647 }), ResellersID: opt(positiveId),
  }, { requiredKeys: forUpdate ? [] : ['UID'] }).map((b): Record<string, unknown> => (Object.keys(b).length > 0 ? b : { TelStatusID: 1 }));
}

export const skillsBody = fc.record({
  Skills: fc.dictionary(fc.integer({ min: 1, max: 2147483647 }).map(String), fc.integer({ min: 0, max: 100 }), { maxKeys: 5 }),
}, { requiredKeys: [] }).map((b): Record<string, unknown> => b);

/** Keys of a skill map that are not canonical SkillsIDs, and a map over the size limit. */
export const skillOddities = fc.constantFrom<unknown>(
  { '007': 5 }, { 0: 5 }, { '-1': 5 }, { 2147483648: 5 }, { '1.5': 5 }, { abc: 5 }, { '': 5 }, { ' 1': 5 }, { '1e3': 5 },
  Object.fromEntries(Array.from({ length: 101 }, (_, i) => [String(i + 1), 50])),
);

const hhmm = (h: number) => `${String(h).padStart(2, '0')}:00`;
const exportKey = fc.constantFrom('DONE', 'NOTEL', 'LATER', 'APPT', 'X1', 'X2');
const content = fc.oneof(fc.record({ 1: word }), fc.record({ 2: word }), fc.record({ 1: word, 2: word }));

function resultCode(key: string) {
  return fc.integer({ min: 1, max: 4 }).chain((type) => fc.record({
    ExportKey: fc.constant(key), DiallerResultCodesTypesID: fc.constant(type),
    TimeOffset: type === 3 ? opt(fc.integer({ min: 0, max: 525600 })) : fc.constant(null),
    bAgentBound: opt(fc.boolean()), bAllowDelete: fc.boolean(), Content: content,
  }, { requiredKeys: ['ExportKey', 'DiallerResultCodesTypesID', 'Content'] }));
}

const dtTo = fc.tuple(fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }), fc.constantFrom(16, 19, 23))
  .map(([d, length]) => d.toISOString().slice(0, length));

export const CAMPAIGN_PATHS = [
  ...['Name', 'LanguagesID', 'ContactPreviewTime', 'nMaxParallelLines', 'bCloseContactsOnIncomingCallsMatchCallerID', 'dtTo', 'bCallerIDActive',
    'UserData', 'ResultCodes', 'AbortOnNoTelNumberResultCode', 'IncomingCallResultCode', 'TimeWindows'].map((f) => [f]),
  ...['ExportKey', 'DiallerResultCodesTypesID', 'TimeOffset', 'bAgentBound', 'bAllowDelete', 'Content', '0'].map((f) => ['ResultCodes', '0', f]),
  ['ResultCodes', '1', 'ExportKey'], ['ResultCodes', '0', 'Content', '1'], ['ResultCodes', '0', 'Content', '3'], ['ResultCodes', '9'],
  ...['Weekday', 'From', 'To', 'Extra'].map((f) => ['TimeWindows', '0', f]), ['TimeWindows', '1', 'From'],
];

export const campaignCreateBody = fc.uniqueArray(exportKey, { maxLength: 4 }).chain((keys) => {
  const windows = fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { maxLength: 3 }).chain((days) => fc.tuple(...days.map((day) =>
    fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 1, max: 24 })).filter(([a, b]) => a < b)
      .map(([a, b]) => ({ Weekday: day, From: hhmm(a), To: hhmm(b) })))));
  const ref = keys.length > 0 ? opt(fc.constantFrom(...keys)) : fc.constant(null);
  return fc.record({
    Name: word, LanguagesID: fc.integer({ min: 1, max: 2 }), ContactPreviewTime: opt(fc.integer({ min: 0, max: 86400 })),
    nMaxParallelLines: opt(fc.integer({ min: 1, max: 10000 })), bCloseContactsOnIncomingCallsMatchCallerID: fc.boolean(), dtTo: opt(dtTo),
    bCallerIDActive: fc.boolean(), UserData: opt(word), ResultCodes: fc.tuple(...keys.map(resultCode)),
    AbortOnNoTelNumberResultCode: ref, IncomingCallResultCode: ref, TimeWindows: windows,
  }, { requiredKeys: ['Name'] }).map((b): Record<string, unknown> => b);
});

export const phone = fc.oneof(
  fc.constantFrom('+49301234567', '030 123 456', '(030) 1234-56', '0049301234567', '+1 (555) 010-9999'),
  fc.stringMatching(/^\+?[1-9][0-9]{4,13}$/),
);

export const CONTACT_PATHS = ['Name', 'FirstName', 'Email', 'DiallerCampaignsID', 'DiallerCampaignsName', 'UserData',
  'PhoneNumber1', 'PhoneNumber2', 'PhoneNumber3', 'PhoneNumber4', 'PhoneNumber5', 'PhoneNumber6'].map((f) => [f]);

export function contactBody(t: Tenant) {
  const known = fc.constantFrom(...t.campaigns).chain((c) => fc.constantFrom<Record<string, unknown>>(
    { DiallerCampaignsID: c.id }, { DiallerCampaignsName: c.name }, { DiallerCampaignsID: c.id, DiallerCampaignsName: c.name },
  ));
  const unknown = fc.constantFrom<Record<string, unknown>>({ DiallerCampaignsID: 999_999 }, { DiallerCampaignsName: t.campaigns[0].name.toUpperCase() });
  const campaign = fc.oneof({ weight: 5, arbitrary: known }, { weight: 1, arbitrary: unknown });
  const fields = fc.record({
    Name: word, FirstName: opt(word), Email: opt(email), PhoneNumber1: phone, PhoneNumber2: opt(phone), PhoneNumber6: opt(phone),
    UserData: opt(fc.constantFrom('K0', 'K1', 'K2', 'a%_')),
  }, { requiredKeys: ['Name', 'PhoneNumber1'] });
  return fc.tuple(fields, campaign).map(([f, c]): Record<string, unknown> => ({ ...f, ...c }));
}

// Query strings and path segments, percent-encoded byte by byte too, so invalid UTF-8 arrives.
export const bytes = fc.uint8Array({ minLength: 1, maxLength: 6 })
  .map((b) => [...b].map((x) => `%${x.toString(16).padStart(2, '0').toUpperCase()}`).join(''));
export const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'];

/** List query strings: each pair a list parameter, a filter or junk, with fitting and odd values. */
export function queryArb(fields: string[], extraKeys: string[], extraValues: string[]) {
  const junk = fc.oneof(fc.string({ maxLength: 12 }).map(encodeURIComponent), bytes, fc.constantFrom('', 'null', '%00', 'a%00b'));
  const numberish = fc.oneof(
    fc.integer({ min: -3, max: 20_000 }).map(String),
    fc.constantFrom('0', '-1', '1e3', '0x10', '2147483648', '-2147483649', '10001', '1.5', '%201', 'true', ...extraValues),
  );
  const pair = fc.oneof(
    fc.tuple(fc.constant('orderBy'), fc.oneof(fc.constantFrom(...fields), fc.constantFrom(...PROTO_NAMES), junk)),
    fc.tuple(fc.constantFrom('limitStart', 'limitPageSize'), numberish),
    fc.tuple(fc.constant('ascending'), fc.oneof(fc.constantFrom('true', 'false'), junk, numberish)),
    fc.tuple(fc.constantFrom(...fields, ...extraKeys), fc.oneof(numberish, junk, fc.constantFrom('2026-06-15T10:00:00.000', 'false'))),
    fc.tuple(fc.oneof(fc.constantFrom(...PROTO_NAMES), fc.string({ maxLength: 6 }).map(encodeURIComponent)), junk),
  );
  return fc.array(pair, { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));
}

/** Percent-encodes any text, a lone surrogate as the three bytes UTF-8 would give it (WTF-8). */
export function encodeText(text: string): string {
  return [...text].map((ch) => {
    if (ch.isWellFormed()) return encodeURIComponent(ch);
    const c = ch.charCodeAt(0);
    return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
  }).join('');
}

export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** A path segment: ids of real objects, near-numbers, and arbitrary text or bytes, encoded. */
export function pathIdArb(ids: number[]) {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ids.map(String)) },
    // The real ids spelled the way Number() would still read them.
    { weight: 2, arbitrary: fc.constantFrom(...ids.flatMap((id) => [`0x${id.toString(16)}`, `${id}.0`, `0${id}`, `+${id}`, `%20${id}`, `${id}%09`, `${id}e0`])) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('0', '-1', '2147483648', '99999999999999999999', '1.5', 'NaN', 'Infinity', 'null', 'true', '0x10', '1e1', '+1',
        '%201', '1%20', '01', '1.0', '0b1', '%00', '1%00', '%2F', 'a%2Fb', '%', '%ZZ', '%FF', '%E2%82'),
    },
    { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }).map(encodeURIComponent) },
    { weight: 2, arbitrary: bytes },
  ).filter((s) => !['', '.', '..'].includes(safeDecode(s)));
}

/** How the auth hook reads a ClientsID; every id in a path deserves the same strictness. */
export const isCanonicalId = (text: string) => /^[1-9]\d{0,9}$/.test(text) && Number(text) <= 2147483647;

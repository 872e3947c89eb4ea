// Validation as properties for every endpoint that takes input besides event create and the
// event list (properties-validation.test.ts): generated bodies, query strings and path ids never
// get a 5xx, every error is `{status, error}`, a rejected request leaves the client's data exactly
// as it was, and an accepted one answers a record of the route's shape.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import type { TSchema } from 'typebox';
import { ADMIN_TOKEN, clientHandle, describeStores, type TestClient } from './helper.ts';
import {
  anyText, bodyArb, bytes, CAMPAIGN_PATHS, campaignCreateBody, checkAnswer, clientsSnapshot, CONTACT_PATHS, contactBody, encodeText,
  GROUP_FIELDS, groupBody, isCanonicalId, jsonText, pathIdArb, queryArb, safeDecode, seedTenant, send, skillOddities,
  skillsBody, snapshot, Tally, type Tenant, USER_FIELDS, userBody, word,
} from './fixtures-properties.ts';
import { GroupRecord, MembershipRecord } from '../src/modules/groups/records.ts';
import { UserRecord } from '../src/modules/users/records.ts';
import { CampaignRecord, ResultCodeRecords } from '../src/modules/campaigns/records.ts';
import { ContactRecord } from '../src/modules/contacts/records.ts';

const RUNS = 80;


const paths = (fields: string[]) => fields.map((f) => [f]);
const isPlain = (v: unknown) => v === null || ['string', 'number', 'boolean'].includes(typeof v);

/** Every plain field of the body that is a field of the record comes back as sent. */
function assertEchoes(record: Record<string, unknown>, body: Record<string, unknown>, fields: string[], where: string): void {
  // `===`, not Object.is: a -0 sent is a 0 stored.
  for (const f of fields) if (f in body && isPlain(body[f])) assert.ok(record[f] === body[f], `${f}: sent ${body[f]}, got ${record[f]}: ${where}`);
}

interface BodyRequest {
  method: 'POST' | 'PATCH' | 'PUT';
  path: string;
  body: unknown;
  cut: boolean;
}

/**
 * The body property: before and after each request the client's data is read whole; a non-200
 * must leave it identical, a 200 must answer a record of `schema` and pass `accepted`.
 */
async function bodyProperty(
  c: TestClient, db: Parameters<typeof snapshot>[0], requests: fc.Arbitrary<BodyRequest>, schema: TSchema,
  accepted: (record: Record<string, any>, r: BodyRequest, where: string) => void | Promise<void>,
  numRuns = RUNS,
  examples: BodyRequest[] = [],
): Promise<Tally> {
  const tally = new Tally();
  await fc.assert(fc.asyncProperty(requests, async (r) => {
    const before = await snapshot(db, c.id);
    const res = await send(c, r.method, r.path, r.body, r.cut);
    tally.add(res.statusCode);
    const where = `${r.method} ${r.path} ${jsonText(r.body)}${r.cut ? ' (cut)' : ''}`;
    const answer = checkAnswer(res, where, schema);
    // Checks compare with the body as the server parsed it (Raw literals such as 1E1 read as 10).
    if (res.statusCode === 200) await accepted(answer.records[0], { ...r, body: JSON.parse(jsonText(r.body)) }, where);
    else assert.equal(await snapshot(db, c.id), before, `data changed by a rejected request: ${where}`);
  }), propertyParameters(numRuns, { examples: examples.map((e) => [e] as [BodyRequest]) }));
  return tally;
}

const cut = fc.boolean().map((b) => b && Math.random() < 0.15);
const post = (path: string, bodies: fc.Arbitrary<unknown>) =>
  fc.record({ method: fc.constant('POST' as const), path: fc.constant(path), body: bodies, cut });

describeStores('endpoint validation properties', (h) => {
  let t: Tenant;
  let other: Tenant;
  before(async () => {
    t = await seedTenant(h);
    other = await seedTenant(h);
  });
  const foreignIds = () => [other.standaloneId, other.agentId, other.userIds[0], other.campaigns[0].id, 999_999];

  it('POST /acd/groups/create', async () => {
    const values = fc.constantFrom<unknown>(...t.groupNames, t.agentId, t.standaloneId, t.configurationId, ...foreignIds());
    const tally = await bodyProperty(t.client, h.store.db, post('/acd/groups/create', bodyArb(groupBody(t, false), paths(GROUP_FIELDS), values)),
      GroupRecord.schema, (rec, r, where) => assertEchoes(rec, r.body as Record<string, unknown>, GROUP_FIELDS, where));
    tally.assertReached(200, 400);
  });

  it('PATCH /acd/groups/group/{id}', async () => {
    const values = fc.constantFrom<unknown>(...t.groupNames, t.agentId, t.standaloneId, t.configurationId, ...foreignIds());
    const target = fc.oneof({ weight: 6, arbitrary: fc.constant(t.standaloneId) }, { weight: 2, arbitrary: fc.constantFrom(t.agentId, t.configurationId, ...foreignIds()) });
    const requests = fc.record({
      method: fc.constant('PATCH' as const), path: target.map((id) => `/acd/groups/group/${id}`),
      body: bodyArb(groupBody(t, true), paths(GROUP_FIELDS), values), cut,
    });
    const tally = await bodyProperty(t.client, h.store.db, requests, GroupRecord.schema, (rec, r, where) => {
      assert.equal(`/acd/groups/group/${rec.ID}`, r.path, where);
      assertEchoes(rec, r.body as Record<string, unknown>, GROUP_FIELDS, where);
    });
    tally.assertReached(200, 400);
  });

  it('POST /users/create', async () => {
    const values = fc.constantFrom<unknown>(...t.uids, ...other.uids, 'a@b', 'x@y.z'.padStart(300, 'x'));
    const tally = await bodyProperty(t.client, h.store.db, post('/users/create', bodyArb(userBody(false), paths(USER_FIELDS), values)),
      UserRecord.schema, (rec, r, where) => assertEchoes(rec, r.body as Record<string, unknown>, USER_FIELDS, where));
    tally.assertReached(200, 400);
  });

  it('PATCH /users/user/{id}', async () => {
    const values = fc.constantFrom<unknown>(...t.uids, ...other.uids, 'a@b');
    const target = fc.oneof({ weight: 6, arbitrary: fc.constant(t.userIds[1]) }, { weight: 2, arbitrary: fc.constantFrom(t.userIds[0], ...foreignIds()) });
    const requests = fc.record({
      method: fc.constant('PATCH' as const), path: target.map((id) => `/users/user/${id}`),
      body: bodyArb(userBody(true), paths(USER_FIELDS), values), cut,
    });
    const tally = await bodyProperty(t.client, h.store.db, requests, UserRecord.schema, (rec, r, where) => {
      assert.equal(`/users/user/${rec.ID}`, r.path, where);
      assertEchoes(rec, r.body as Record<string, unknown>, USER_FIELDS, where);
    });
    tally.assertReached(200, 400);
  });

  it('PUT /acd/groups/group/{id}/members/{UsersID}', async () => {
    const group = fc.constantFrom(t.standaloneId, t.agentId, t.agentId, t.configurationId, other.agentId, 999_999);
    const user = fc.constantFrom(t.userIds[0], t.userIds[1], t.userIds[1], other.userIds[0], 999_999);
    const skillPaths = [['Skills'], ['Skills', '12'], ['Skills', '007'], ['Skills', '0'], ['Skills', '2147483648'], ['Skills', 'x']];
    const requests = fc.record({
      method: fc.constant('PUT' as const), path: fc.tuple(group, user).map(([g, u]) => `/acd/groups/group/${g}/members/${u}`),
      body: bodyArb(skillsBody, skillPaths, skillOddities), cut,
    });
    const tally = await bodyProperty(t.client, h.store.db, requests, MembershipRecord.schema, (rec, r, where) => {
      assert.equal(`/acd/groups/group/${rec.AcdGroupsID}/members/${rec.UsersID}`, r.path, where);
      // Through JSON, as the store does: a -0 sent is a 0 stored.
      assert.deepEqual(rec.Skills, JSON.parse(JSON.stringify((r.body as { Skills?: unknown }).Skills ?? {})), where);
    });
    tally.assertReached(200, 400, 404);
  });

  it('POST /dialler/campaigns/create', async () => {
    const values = fc.constantFrom<unknown>(...t.campaigns.map((c) => c.name), ...other.campaigns.map((c) => c.name), 'LATER', 'X1');
    const tally = await bodyProperty(t.client, h.store.db, post('/dialler/campaigns/create', bodyArb(campaignCreateBody, CAMPAIGN_PATHS, values)),
      CampaignRecord.schema, (rec, r, where) => {
        const body = r.body as Record<string, unknown>;
        assertEchoes(rec, body, ['Name', 'LanguagesID', 'ContactPreviewTime', 'nMaxParallelLines', 'UserData'], where);
        // The end date is stored as the day the client wrote (a DST gap may move the hour only).
        if (typeof body.dtTo === 'string') assert.equal(rec.dtTo?.slice(0, 10), body.dtTo.slice(0, 10), `dtTo: ${where}`);
        assert.equal(rec.AbortOnNoTelNumberResultCodesID === null, body.AbortOnNoTelNumberResultCode == null, where);
      });
    tally.assertReached(200, 400);
  });

  it('POST /dialler/campaigns/clone', async () => {
    const names = t.campaigns.map((c) => c.name);
    const variants = names.flatMap((n) => [n.toUpperCase(), n.toLowerCase(), n.slice(1), `${n} `, ` ${n}`]);
    const source = fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: fc.constantFrom(...variants) });
    const valid = fc.record({ source, destination: word, userData: fc.oneof(word, fc.constant('')) })
      .map((b): Record<string, unknown> => b);
    const values = fc.constantFrom<unknown>(...names, ...variants, ...other.campaigns.map((c) => c.name));
    const tally = await bodyProperty(t.client, h.store.db, post('/dialler/campaigns/clone', bodyArb(valid, paths(['source', 'destination', 'userData']), values)),
      CampaignRecord.schema, async (rec, r, where) => {
        const body = r.body as { destination: string; userData: string; source: string };
        const exact = await h.store.db.selectFrom('dialler_campaigns').select('id').where('client_id', '=', t.client.id).where('name', '=', body.source).execute();
        assert.equal(exact.length, 1, `cloned from an inexact source name: ${where}`);
        assert.equal(rec.Name, body.destination, where);
        assert.equal(rec.UserData, body.userData, where);
      });
    tally.assertReached(200, 400, 404);
  });

  it('POST /dialler/contacts/import?overwriteDuplicates=…', async () => {
    const flags = ['', '?overwriteDuplicates=true', '?overwriteDuplicates=false'];
    const query = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...flags) }, {
      weight: 1,
      arbitrary: fc.constantFrom('', '1', '0', 'TRUE', 'yes', 'null', 'true&overwriteDuplicates=false', '%00', '%FF', 'true&extra=1', '%ED%A0%80')
        .map((v) => `?overwriteDuplicates=${v}`),
    });
    const values = fc.constantFrom<unknown>(...t.campaigns.map((c) => c.id), ...t.campaigns.map((c) => c.name), ...foreignIds(), other.campaigns[0].name);
    const requests = fc.record({
      method: fc.constant('POST' as const), path: query.map((q) => `/dialler/contacts/import${q}`),
      body: bodyArb(contactBody(t), CONTACT_PATHS, values), cut,
    });
    const tally = await bodyProperty(t.client, h.store.db, requests, ContactRecord.schema, async (rec, r, where) => {
      assert.ok(flags.includes(r.path.slice('/dialler/contacts/import'.length)), `accepted an odd overwriteDuplicates: ${where}`);
      const body = r.body as { DiallerCampaignsID?: number; DiallerCampaignsName?: string };
      const campaign = await h.store.db.selectFrom('dialler_campaigns').select(['id', 'name'])
        .where('client_id', '=', t.client.id).where('id', '=', rec.DiallerCampaignsID).executeTakeFirst();
      assert.ok(campaign && (body.DiallerCampaignsID ?? campaign.id) === campaign.id && (body.DiallerCampaignsName ?? campaign.name) === campaign.name, where);
      assertEchoes(rec, r.body as Record<string, unknown>, ['Name', 'FirstName', 'UserData'], where);
    }, RUNS, [
      // The outcome the generator reaches least often, always among the cases.
      { method: 'POST', path: '/dialler/contacts/import', body: { Name: 'Example', PhoneNumber1: '4930123456', DiallerCampaignsID: other.campaigns[0].id }, cut: false },
    ]);
    tally.assertReached(200, 400, 404);
  });

  it('admin POST /clients/create: a client it accepts works in its time zone', async () => {
    const known = `Known client ${process.pid}`;
    assert.equal((await h.admin('POST', '/rest/v1.0/clients/create', { Name: known })).statusCode, 200);
    const zone = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...Intl.supportedValuesOf('timeZone')) },
      { weight: 2, arbitrary: fc.constantFrom('Factory', 'US/Pacific-New', 'Canada/East-Saskatchewan', '+01:00', '-05:30', 'europe/berlin', 'Etc/GMT+14', 'Z', 'EST5EDT', 'Asia/Calcutta', 'Mars/Olympus', 'Europe/Berlin ') },
    );
    const valid = fc.record({ Name: fc.tuple(word, fc.nat()).map(([w, n]) => `${w} ${n}`), TimeZone: zone }, { requiredKeys: ['Name'] })
      .map((b): Record<string, unknown> => b);
    const bodies = bodyArb(valid, paths(['Name', 'TimeZone']), fc.constantFrom<unknown>(known, 'x'.repeat(65), 'UTC'));
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(bodies, cut, async (body, isCut) => {
      const before = await clientsSnapshot(h.store.db);
      const res = await h.app.inject({
        method: 'POST', url: '/rest/v1.0/clients/create', payload: jsonText(body, isCut),
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      });
      tally.add(res.statusCode);
      const where = `POST /clients/create ${JSON.stringify(body)}${isCut ? ' (cut)' : ''}`;
      const answer = checkAnswer(res, where);
      if (res.statusCode !== 200) return assert.equal(await clientsSnapshot(h.store.db), before, `clients changed by a rejected request: ${where}`);
      const { ClientsID, Token } = answer.records[0];
      assert.ok(Number.isInteger(ClientsID) && typeof Token === 'string', where);
      // The zone must mean the same to the store as to us: the client's timestamps show it.
      const created = await clientHandle(h.app, ClientsID, Token).post('/acd/groups/create', { Name: 'probe' });
      const record = checkAnswer(created, `first group of ${where}`, GroupRecord.schema).records[0];
      assert.equal(record.dtCreated, localTime(h.clock.now(), (body as { TimeZone?: string }).TimeZone ?? 'Europe/Berlin'), where);
    }), propertyParameters(60));
    tally.assertReached(200, 400);
  });

  it('GET lists: any query string answers a list or a 400', async () => {
    const lists = new Map<string, { record: typeof GroupRecord; extra: string[] }>([
      ['/acd/groups', { record: GroupRecord, extra: [] }],
      ['/users', { record: UserRecord, extra: [] }],
      ['/dialler/campaigns', { record: CampaignRecord, extra: [] }],
      ['/dialler/contacts', { record: ContactRecord, extra: ['diallerCampaignsID'] }],
    ]);
    const ids = [...t.campaigns.map((c) => c.id), other.campaigns[0].id].map(String);
    const requests = fc.constantFrom(...lists.keys())
      .chain((path) => queryArb(Object.keys(lists.get(path)!.record.fields), lists.get(path)!.extra, ids).map((q) => `${path}?${q}`));
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(requests, async (url) => {
      const [path, query] = url.split('?');
      const { record } = lists.get(path)!;
      const res = await t.client.get(url);
      tally.add(res.statusCode);
      const answer = checkAnswer(res, `GET ${url}`, record.schema);
      assert.ok([200, 400].includes(res.statusCode) || (res.statusCode === 404 && query.includes('diallerCampaignsID')), `GET ${url}`);
      if (res.statusCode === 200) {
        assert.ok(Object.hasOwn(record.fields, answer.orderBy), `GET ${url}`);
        if (answer.limitPageSize > 0) assert.ok(answer.count <= answer.limitPageSize, `GET ${url}`);
      }
    }), propertyParameters(150));
    tally.assertReached(200, 400);
  });

  it('GET …?name= and resultCodes?languagesID=: a match, a 404 or a 400', async () => {
    const names = [...t.groupNames, ...t.campaigns.map((c) => c.name)];
    const plain = fc.oneof(
      fc.constantFrom(...names), fc.constantFrom(...names).map((n) => n.toUpperCase()), fc.constantFrom(...names).map((n) => n.slice(2, 6)),
      fc.constantFrom('%', '_', '\\', "'", ' ', 'a%', 'x'.repeat(257)), fc.string({ maxLength: 8 }), anyText(8),
    );
    const nameQuery = fc.oneof(
      { weight: 6, arbitrary: plain.map((n) => ({ q: `name=${encodeText(n)}`, name: n as string | undefined })) },
      { weight: 2, arbitrary: fc.oneof(bytes.map((b) => `name=${b}`), fc.constantFrom('', 'name=', 'name', 'name=a&name=b', 'name=Sales&x=1', 'Name=Sales', 'name=%00'))
        .map((q) => ({ q, name: undefined })) },
    );
    const requests = fc.oneof(
      nameQuery.map((n) => ({ path: `/acd/groups/group?${n.q}`, name: n.name, lang: undefined as string | undefined })),
      nameQuery.map((n) => ({ path: `/dialler/campaigns/campaign?${n.q}`, name: n.name, lang: undefined as string | undefined })),
      fc.tuple(fc.constantFrom(...t.campaigns.map((c) => c.id), other.campaigns[0].id, 999_999),
        fc.oneof(fc.constantFrom('', '1', '2', '3', '0', '-1', '1.5', 'en', '1&languagesID=2', '%00', '2&x=1'), bytes))
        .map(([id, lang]) => ({ path: `/dialler/campaigns/campaign/${id}/resultCodes?languagesID=${lang}`, name: undefined, lang })),
    );
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(requests, async (r) => {
      const where = `GET ${r.path}`;
      const res = await t.client.get(r.path);
      tally.add(res.statusCode);
      const schema = r.lang !== undefined ? ResultCodeRecords[1].schema : r.path.startsWith('/acd') ? GroupRecord.schema : CampaignRecord.schema;
      const answer = checkAnswer(res, where, schema);
      assert.ok([200, 400, 404].includes(res.statusCode), where);
      if (res.statusCode !== 200) return;
      // The server reads the query form-decoded: %31 is 1, + a space.
      if (r.lang !== undefined) assert.ok(['1', '2'].includes(safeDecode(r.lang.replaceAll('+', ' '))), `accepted languagesID=${r.lang}: ${where}`);
      // Only for ASCII is JS lower-casing sure to agree with the database's.
      if (r.name !== undefined && /^[\x20-\x7e]*$/.test(r.name)) {
        for (const rec of answer.records) assert.ok(rec.Name.toLowerCase().includes(r.name.toLowerCase()), `${rec.Name}: ${where}`);
      }
    }), propertyParameters(150));
    tally.assertReached(200, 400, 404);
  });

  it('DELETE /dialler/campaigns/campaign?name= deletes the exact name only, or nothing', async () => {
    const d = await seedTenant(h);
    const victims = ['Del Alpha', 'del alpha', 'Del Alpha 2', 'Del_%'];
    for (const n of victims) assert.equal((await d.client.post('/dialler/campaigns/create', { Name: n })).statusCode, 200);
    const campaignNames = async () => (await h.store.db.selectFrom('dialler_campaigns').select('name').where('client_id', '=', d.client.id).orderBy('id').execute()).map((r) => r.name);
    const name = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...victims).map(encodeURIComponent) },
      { weight: 3, arbitrary: fc.constantFrom(...victims, 'Del', 'Del%', 'Del_', 'Del Alpha%', 'DEL ALPHA', 'Del Alpha ', 'del', '%', '_').map(encodeURIComponent) },
      { weight: 1, arbitrary: fc.oneof(word.map(encodeText), bytes, fc.constantFrom('', '%00', 'Del%20Alpha&name=Del_%25')) },
    );
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(name, async (encoded) => {
      const where = `DELETE /dialler/campaigns/campaign?name=${encoded}`;
      const [before, namesBefore] = [await snapshot(h.store.db, d.client.id), await campaignNames()];
      const res = await d.client.request('DELETE', `/dialler/campaigns/campaign?name=${encoded}`);
      tally.add(res.statusCode);
      checkAnswer(res, where);
      if (res.statusCode !== 200) return assert.equal(await snapshot(h.store.db, d.client.id), before, `data changed by a rejected request: ${where}`);
      const exact = safeDecode(encoded);
      assert.ok(namesBefore.includes(exact), `deleted by an inexact name: ${where}`);
      assert.deepEqual(await campaignNames(), namesBefore.filter((n) => n !== exact), where);
      assert.equal((await d.client.post('/dialler/campaigns/create', { Name: exact })).statusCode, 200);
    }), propertyParameters(100));
    tally.assertReached(200, 404);
  });

  it('path ids given as arbitrary strings', async () => {
    const p = await seedTenant(h);
    const ids = [p.standaloneId, p.agentId, p.configurationId, ...p.userIds, ...p.campaigns.map((c) => c.id), ...p.contactIds, other.standaloneId];
    type Route = { method: 'GET' | 'PATCH' | 'PUT' | 'DELETE'; path: (a: string, b: string) => string; ids: 1 | 2; body?: unknown };
    const route = (method: Route['method'], path: Route['path'], ids: 1 | 2 = 1, body?: unknown): Route => ({ method, path, ids, body });
    const routes = [
      route('GET', (a) => `/acd/groups/group/${a}`), route('GET', (a) => `/acd/groups/group/${a}/members`), route('GET', (a) => `/users/user/${a}`),
      route('GET', (a) => `/dialler/campaigns/${a}`), route('GET', (a) => `/dialler/campaigns/campaign/${a}`),
      route('GET', (a) => `/dialler/campaigns/campaign/${a}/resultCodes`), route('GET', (a) => `/dialler/contacts/${a}`),
      route('PATCH', (a) => `/acd/groups/group/${a}`, 1, { ForeignSystemID: 'p' }), route('PATCH', (a) => `/users/user/${a}`, 1, { FirstName: 'p' }),
      route('PUT', (a, b) => `/acd/groups/group/${a}/members/${b}`, 2, {}), route('DELETE', (a) => `/acd/groups/group/${a}`),
      route('DELETE', (a) => `/users/user/${a}`), route('DELETE', (a, b) => `/acd/groups/group/${a}/members/${b}`, 2),
      route('DELETE', (a) => `/dialler/campaigns/campaign/${a}`),
    ];
    const tally = new Tally();
    await fc.assert(fc.asyncProperty(fc.constantFrom(...routes), pathIdArb(ids), pathIdArb(ids), async (r, a, b) => {
      const url = r.path(a, b);
      const where = `${r.method} ${url}`;
      const before = await snapshot(h.store.db, p.client.id);
      const res = r.body === undefined ? await p.client.request(r.method, url) : await send(p.client, r.method as 'PATCH' | 'PUT', url, r.body);
      tally.add(res.statusCode);
      checkAnswer(res, where);
      const odd = (r.ids === 2 ? [a, b] : [a]).filter((id) => !isCanonicalId(id));
      if (res.statusCode === 200) assert.deepEqual(odd, [], `accepted a non-canonical id: ${where}`);
      else assert.equal(await snapshot(h.store.db, p.client.id), before, `data changed by a rejected request: ${where}`);
    }), propertyParameters(150));
    tally.assertReached(200, 400, 404);
  });

  // Regressions of what the properties found.
  it('a path that is not percent-encoded UTF-8 answers 400 {status, error}', async () => {
    for (const path of ['/acd/groups/group/%80', '/acd/groups/group/%C3%28', '/acd/groups/group/%ZZ']) {
      const res = await t.client.get(path);
      assert.equal(res.statusCode, 400, path);
      assert.deepEqual(res.json(), { status: 400, error: 'The URL is not valid percent-encoded UTF-8' });
    }
  });

  it('a path id that is not plain decimal (0x10, 6.0, +6, 06) is a 400, and DELETE deletes nothing', async () => {
    const d = await seedTenant(h);
    const victim = d.userIds[1];
    const before = await snapshot(h.store.db, d.client.id);
    const res = await d.client.request('DELETE', `/users/user/0x${victim.toString(16)}`);
    assert.equal(res.statusCode, 400, `DELETE /users/user/0x${victim.toString(16)} (user ${victim}) → ${res.statusCode} ${res.body}`);
    assert.equal(await snapshot(h.store.db, d.client.id), before);
  });
});

/** `YYYY-MM-DDTHH:mm:ss.SSS` of the instant in the zone, as Intl (ICU) reads the zone. */
function localTime(ms: number, zone: string): string {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${String(ms % 1000).padStart(3, '0')}`;
}

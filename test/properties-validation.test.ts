// Validation as properties: generated create bodies and list query strings never get a 5xx, a
// rejected create stores nothing, and what is accepted is a well-formed record.
import { before, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters } from './fixtures-fast-check.ts';
import { describeStores } from './helper.ts';
import { callback, conformsTo, eventRowCounts, eventTenant, type EventTenant } from './fixtures-events.ts';
import { CreatedEventSchema, EventRecord } from '../src/modules/events/records.ts';

const assertCreated = conformsTo(CreatedEventSchema);

/** Any UTF-16 code unit, with the ones storage and XML choke on (NUL, lone surrogates) often. */
const codeUnit = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udfff', '\u0001', '\u000b', '\uffff', '<', '&', '"') },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
);
const anyText = (maxLength: number) => fc.string({ unit: codeUnit, maxLength });
const wild = fc.oneof(fc.jsonValue({ maxDepth: 2 }), anyText(20), fc.integer(), fc.double(), fc.constant(null));

const DROP = Symbol('drop');
const BODY_FIELDS = [
  'AcdEventTypesID', 'AcdGroupsID', 'AcdConfigurationGroupsID', 'AcdAgentGroupsID', 'UsersID', 'Sender', 'Receiver', 'Subject',
  'Body', 'CrmURL', 'UserData', 'Priority', 'dtAppointmentDate', 'dtAppointmentTime', 'Extra',
];

/** A mostly valid body, then up to two fields replaced by anything or dropped. */
function bodyArb(t: EventTenant) {
  const e164 = fc.stringMatching(/^\+?[1-9][0-9]{5,14}$/);
  const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null });
  const valid = fc.record({
    AcdEventTypesID: fc.integer({ min: 1, max: 7 }),
    target: fc.oneof(
      fc.constantFrom(t.groupId, t.dedupGroupId).map((id) => ({ AcdGroupsID: id })),
      fc.constant({ AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId }),
    ),
    UsersID: opt(fc.constant(t.userId)),
    Sender: e164,
    Receiver: opt(fc.oneof(e164, fc.constant(''))),
    Subject: fc.oneof(fc.string({ maxLength: 40 }), anyText(40)),
    Body: opt(fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), anyText(20))),
    CrmURL: opt(fc.oneof(fc.webUrl(), fc.constant(''))),
    UserData: opt(fc.oneof(fc.string({ maxLength: 30 }), anyText(30))),
    Priority: opt(fc.integer({ min: 0, max: 200 })),
    dtAppointmentDate: opt(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))),
    dtAppointmentTime: opt(fc.tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 })).map(([hh, mm]) => `${String(hh).padStart(2, '0')}:${String(mm).padStart(2, '0')}`)),
  }).map(({ target, ...rest }) => ({ ...rest, ...target }) as Record<string, unknown>);
  const anyGroupId = fc.oneof(fc.constantFrom(t.groupId, t.dedupGroupId, t.configurationGroupId, t.agentGroupId, t.userId), fc.integer({ min: -5, max: 3_000_000_000 }));
  const mutation = fc.tuple(fc.constantFrom(...BODY_FIELDS), fc.oneof(wild, anyGroupId, fc.constant<typeof DROP>(DROP)));
  return fc.tuple(valid, fc.array(mutation, { maxLength: 2 })).map(([body, mutations]) => {
    const out: Record<string, unknown> = { ...body };
    for (const [key, value] of mutations) {
      if (value === DROP) delete out[key];
      else out[key] = value;
    }
    return out;
  });
}

/** A query value percent-encoded byte by byte, so invalid UTF-8 is generated as well. */
const encodedValue = fc.oneof(
  fc.oneof(fc.integer({ min: -3, max: 20_000 }).map(String), fc.constantFrom('true', 'false', '', 'null', '1e3', '2026-06-15T10:00:00.000'), fc.string({ maxLength: 12 })).map(encodeURIComponent),
  fc.uint8Array({ maxLength: 8 }).map((bytes) => [...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')),
);
const queryKey = fc.oneof(
  fc.constantFrom('limitStart', 'limitPageSize', 'orderBy', 'ascending', ...Object.keys(EventRecord.fields)),
  fc.string({ maxLength: 8 }).map(encodeURIComponent),
);
const queryArb = fc.array(fc.tuple(queryKey, fc.oneof(encodedValue, fc.constantFrom(...Object.keys(EventRecord.fields)))), { maxLength: 5 })
  .map((pairs) => pairs.map(([k, v]) => `${k}=${v}`).join('&'));

describeStores('validation properties', (h) => {
  let t: EventTenant;
  before(async () => {
    t = await eventTenant(h);
    // Some events to list, so that filters and ordering meet data.
    for (const sender of ['4989100001', '4989100002']) await t.client.post('/acd/events/create', callback(t.groupId, { Sender: sender }));
  });

  it('a generated create body never gets a 5xx, and a rejected one changes nothing', async () => {
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(bodyArb(t), fc.boolean(), async (body, asText) => {
        const before = await eventRowCounts(h.store.db);
        const payload = asText ? JSON.stringify(body).slice(0, -1) : JSON.stringify(body);
        const res = await t.client.request('POST', '/acd/events/create', payload, { 'content-type': 'application/json' });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        assert.ok(res.statusCode < 500, `${res.statusCode} ${res.body}`);
        const answer = res.json();
        assert.equal(answer.status, res.statusCode);
        if (res.statusCode === 200) {
          assertCreated(answer.records[0]);
        } else {
          assert.ok([400, 404, 409, 413].includes(res.statusCode), res.body);
          assert.equal(typeof answer.error, 'string');
          assert.deepEqual(await eventRowCounts(h.store.db), before);
        }
      }),
      propertyParameters(200),
    );
    // The generator reaches both outcomes, so the property is not vacuous.
    assert.ok((statuses.get(200) ?? 0) > 0 && (statuses.get(400) ?? 0) > 0, JSON.stringify([...statuses]));
  });

  it('a generated list query string never gets a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb, async (query) => {
        const res = await t.client.get(`/acd/events?${query}`);
        assert.ok(res.statusCode === 200 || res.statusCode === 400, `${query}: ${res.statusCode} ${res.body}`);
        const body = res.json();
        if (res.statusCode === 200) assert.equal(body.count, body.records.length);
        else assert.equal(typeof body.error, 'string');
      }),
      propertyParameters(150),
    );
  });

  it('near-miss valid bodies are accepted (the generator is not only noise)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 7 }), fc.stringMatching(/^\+?[1-9][0-9]{5,14}$/), fc.integer({ min: 0, max: 200 }), async (type, sender, priority) => {
        const res = await t.client.post('/acd/events/create', callback(t.groupId, { AcdEventTypesID: type, Sender: sender, Priority: priority }));
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.json().records[0].Priority, priority);
      }),
      propertyParameters(30),
    );
  });
});

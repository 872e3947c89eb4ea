// Spec §3.2: every rule of the create body and every 4xx it names, and the appointment rules as
// the API applies them with the injectable clock. A rejected create never stores anything.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { describeStores, type Harness } from './helper.ts';
import { addGroup, addUser, callback, eventRowCounts, eventTenant, type EventTenant } from './fixtures-events.ts';

/** 400 whose body names `field` (in the message and in details). */
function assertInvalid(res: LightMyRequestResponse, field: string, note = ''): void {
  assert.equal(res.statusCode, 400, `${note} ${res.body}`);
  const body = res.json();
  assert.equal(body.status, 400);
  assert.ok(body.error.includes(field), `${note} error names ${field}: ${body.error}`);
  assert.equal(body.details?.[0]?.field, field, note);
}

async function create(t: EventTenant, body: unknown) {
  return t.client.post('/acd/events/create', body);
}

/** Runs `fn` and shows that no event, comment or history row appeared. */
async function unchanged(h: Harness, fn: () => Promise<void>): Promise<void> {
  const before = await eventRowCounts(h.store.db);
  await fn();
  assert.deepEqual(await eventRowCounts(h.store.db), before);
}

describeStores('ACD event create rules', (h) => {
  it('requires AcdEventTypesID, Sender and Subject', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const field of ['AcdEventTypesID', 'Sender', 'Subject']) {
        const body = callback(t.groupId);
        delete body[field];
        const res = await create(t, body);
        assertInvalid(res, field);
        assert.match(res.json().details[0].message, /required/);
      }
    });
  });

  it('rejects an unknown event type and values of the wrong JSON type (no coercion)', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const type of [0, 8, -1, 3.5, '3', null]) assertInvalid(await create(t, callback(t.groupId, { AcdEventTypesID: type })), 'AcdEventTypesID', String(type));
      assertInvalid(await create(t, callback(t.groupId, { AcdGroupsID: String(t.groupId) })), 'AcdGroupsID');
      assertInvalid(await create(t, callback(t.groupId, { Sender: 49199123456789 })), 'Sender');
      assertInvalid(await create(t, callback(t.groupId, { Subject: null })), 'Subject');
      assertInvalid(await create(t, callback(t.groupId, { UsersID: 0 })), 'UsersID');
    });
  });

  it('rejects unknown body fields, naming them', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      const res = await create(t, callback(t.groupId, { Sendr: 'typo' }));
      assertInvalid(res, 'Sendr');
      assert.equal(res.json().details[0].message, 'unknown field');
      assertInvalid(await create(t, callback(t.groupId, { ID: 5 })), 'ID');
    });
  });

  it('needs exactly one group form: neither, both, or half a pair is 400', async () => {
    const t = await eventTenant(h);
    const pair = { AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId };
    await unchanged(h, async () => {
      assertInvalid(await create(t, callback(t.groupId, { AcdGroupsID: undefined })), 'AcdGroupsID', 'neither');
      assertInvalid(await create(t, callback(t.groupId, { AcdGroupsID: null, AcdConfigurationGroupsID: null })), 'AcdGroupsID', 'neither (nulls)');
      assertInvalid(await create(t, callback(t.groupId, pair)), 'AcdGroupsID', 'both');
      assertInvalid(await create(t, callback(t.groupId, { AcdAgentGroupsID: t.agentGroupId })), 'AcdGroupsID', 'group and half pair');
      assertInvalid(await create(t, callback(0, { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId })), 'AcdAgentGroupsID', 'configuration only');
      assertInvalid(await create(t, callback(0, { AcdGroupsID: null, AcdAgentGroupsID: t.agentGroupId, AcdConfigurationGroupsID: null })), 'AcdConfigurationGroupsID', 'agent only');
    });
    assert.equal((await create(t, callback(0, { AcdGroupsID: null, ...pair }))).statusCode, 200);
  });

  it('answers 404 JSON naming a group that does not exist in this client', async () => {
    const t = await eventTenant(h);
    const other = await eventTenant(h);
    await unchanged(h, async () => {
      const missing = await create(t, callback(987654));
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), { status: 404, error: 'ACD group 987654 not found' });
      const agent = await create(t, callback(0, { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: other.agentGroupId }));
      assert.equal(agent.statusCode, 404);
      assert.deepEqual(agent.json(), { status: 404, error: `ACD group ${other.agentGroupId} not found` });
      const configuration = await create(t, callback(0, { AcdGroupsID: undefined, AcdConfigurationGroupsID: 987655, AcdAgentGroupsID: t.agentGroupId }));
      assert.deepEqual(configuration.json(), { status: 404, error: 'ACD group 987655 not found' });
    });
  });

  it('answers 400 when a group is of the wrong kind for its field', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      const agentAsStandalone = await create(t, callback(t.agentGroupId));
      assertInvalid(agentAsStandalone, 'AcdGroupsID');
      assert.match(agentAsStandalone.json().error, /is an Agent group, not a Standalone group/);
      assertInvalid(await create(t, callback(t.configurationGroupId)), 'AcdGroupsID');
      const swapped = { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.agentGroupId, AcdAgentGroupsID: t.configurationGroupId };
      assertInvalid(await create(t, callback(0, swapped)), 'AcdConfigurationGroupsID');
      assertInvalid(await create(t, callback(0, { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.groupId })), 'AcdAgentGroupsID');
      assertInvalid(await create(t, callback(0, { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.groupId, AcdAgentGroupsID: t.agentGroupId })), 'AcdConfigurationGroupsID');
    });
  });

  it('answers 404 for an unknown user and 409 for a user who is not a member of the target group', async () => {
    const t = await eventTenant(h);
    const outsider = await addUser(h.store.db, t.client.id, [t.dedupGroupId]);
    await unchanged(h, async () => {
      const unknown = await create(t, callback(t.groupId, { UsersID: 987654 }));
      assert.equal(unknown.statusCode, 404);
      assert.deepEqual(unknown.json(), { status: 404, error: 'User 987654 not found' });
      const notMember = await create(t, callback(t.groupId, { UsersID: outsider }));
      assert.equal(notMember.statusCode, 409);
      assert.deepEqual(notMember.json(), { status: 409, error: `User ${outsider} is not a member of ACD group ${t.groupId}` });
      // Pair form: membership counts in the agent group, not the configuration group.
      const configurationOnly = await addUser(h.store.db, t.client.id, []);
      await h.store.db.insertInto('acd_group_members').values({ group_id: t.configurationGroupId, user_id: configurationOnly }).execute();
      const pair = { AcdGroupsID: undefined, AcdConfigurationGroupsID: t.configurationGroupId, AcdAgentGroupsID: t.agentGroupId };
      const res = await create(t, callback(0, { ...pair, UsersID: configurationOnly }));
      assert.equal(res.statusCode, 409);
      assert.match(res.json().error, new RegExp(`ACD group ${t.agentGroupId}$`));
    });
  });

  it('checks the request before the database: a bad field is 400 even with an unknown group', async () => {
    const t = await eventTenant(h);
    assertInvalid(await create(t, callback(987654, { Sender: 'not a number' })), 'Sender');
    assertInvalid(await create(t, callback(987654, { dtAppointmentDate: '2026-02-30' })), 'dtAppointmentDate');
  });

  it('Sender of voice-mail and callback events must be E.164 digits; + is accepted and dropped', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const type of [1, 3]) {
        for (const sender of ['', 'abc', '+', '12345', '1234567890123456', '0049199123456', '49 199 123456', '+49-199-123456', '++49199123456', '４９１９９１２３４５６']) {
          assertInvalid(await create(t, callback(t.groupId, { AcdEventTypesID: type, Sender: sender })), 'Sender', `type ${type} "${sender}"`);
        }
      }
    });
    for (const [sender, stored] of [['+49199123456789', '49199123456789'], ['123456', '123456'], ['+123456789012345', '123456789012345']]) {
      const res = await create(t, callback(t.groupId, { AcdEventTypesID: 1, Sender: sender }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().records[0].Sender, stored);
    }
  });

  it('Sender of other types is context specific and may be empty', async () => {
    const t = await eventTenant(h);
    for (const [type, sender] of [[2, '+49 (89) 123-456'], [4, ''], [5, 'anna@example.com'], [6, ''], [7, 'web chat visitor']] as const) {
      const res = await create(t, callback(t.groupId, { AcdEventTypesID: type, Sender: sender }));
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.json().records[0].Sender, sender);
    }
  });

  it('Receiver of phone events is empty or E.164 (normalised); free text elsewhere', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      assertInvalid(await create(t, callback(t.groupId, { Receiver: 'hotline' })), 'Receiver');
      assertInvalid(await create(t, callback(t.groupId, { AcdEventTypesID: 1, Receiver: '0800 123' })), 'Receiver');
    });
    assert.equal((await create(t, callback(t.groupId, { Receiver: '+4919900112233' }))).json().records[0].Receiver, '4919900112233');
    assert.equal((await create(t, callback(t.groupId, { Receiver: '' }))).json().records[0].Receiver, '');
    assert.equal((await create(t, callback(t.groupId, { AcdEventTypesID: 5, Sender: 'a@b.de', Receiver: 'sales@example.com' }))).json().records[0].Receiver, 'sales@example.com');
  });

  it('CrmURL must be empty or an absolute http(s) URL', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const url of ['crm.example.com/case/1', '/case/1', 'javascript:alert(1)', 'http://', 'https://exa mple.com/', 'ftp://files.example.com/x', 'https:/crm.example.com', ' https://crm.example.com', 'https://crm.example.com/\n', 'data:text/html,hi']) {
        assertInvalid(await create(t, callback(t.groupId, { CrmURL: url })), 'CrmURL', JSON.stringify(url));
      }
    });
    for (const url of ['', 'https://crm.example.com/case?id=4711&tab=notes#top', 'http://10.0.0.5:8080/crm', 'HTTPS://CRM.EXAMPLE.COM/']) {
      const res = await create(t, callback(t.groupId, { CrmURL: url }));
      assert.equal(res.statusCode, 200, `${url}: ${res.body}`);
      assert.equal(res.json().records[0].CrmURL, url);
    }
  });

  it('Priority must be an integer 0..200', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const p of [-1, 201, 1.5, '50', true]) assertInvalid(await create(t, callback(t.groupId, { Priority: p })), 'Priority', String(p));
    });
  });

  it('enforces the text limits in UTF-8 bytes', async () => {
    const t = await eventTenant(h);
    const email = (extra: Record<string, unknown>) => callback(t.groupId, { AcdEventTypesID: 5, Sender: 'a@b.de', ...extra });
    await unchanged(h, async () => {
      assertInvalid(await create(t, email({ Subject: 'x'.repeat(1025) })), 'Subject', 'characters');
      const bytes = await create(t, email({ Subject: 'é'.repeat(513) })); // 513 characters, 1026 bytes
      assertInvalid(bytes, 'Subject', 'bytes');
      assert.match(bytes.json().error, /1024 bytes/);
      assertInvalid(await create(t, email({ Sender: 's'.repeat(257) })), 'Sender');
      assertInvalid(await create(t, email({ Receiver: 'r'.repeat(257) })), 'Receiver');
      assertInvalid(await create(t, email({ UserData: '€'.repeat(86) })), 'UserData'); // 258 bytes
      assertInvalid(await create(t, email({ CrmURL: `https://crm.example.com/${'a'.repeat(2025)}` })), 'CrmURL');
      assertInvalid(await create(t, email({ Body: 'b'.repeat(1024 * 1024 + 1) })), 'Body');
    });
    const atLimit = await create(t, email({ Subject: 'é'.repeat(512), Sender: 's'.repeat(256), UserData: 'u'.repeat(256), CrmURL: `https://crm.example.com/${'a'.repeat(2024)}`, Body: 'b'.repeat(1024 * 1024) }));
    assert.equal(atLimit.statusCode, 200);
    assert.equal(atLimit.json().records[0].Subject.length, 512);
  });

  it('answers 413 for a request larger than the body limit', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      const res = await create(t, callback(t.groupId, { Body: 'b'.repeat(3 * 1024 * 1024) }));
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().status, 413);
    });
  });

  it('rejects texts the store or the XML cannot hold: NUL, lone surrogates, XML-forbidden controls', async () => {
    const t = await eventTenant(h);
    const raw = (field: string, escaped: string) =>
      t.client.request('POST', '/acd/events/create', JSON.stringify(callback(t.groupId, { AcdEventTypesID: 5, Sender: 'a@b.de', [field]: `x@@y` })).replace('@@', escaped), { 'content-type': 'application/json' });
    await unchanged(h, async () => {
      assertInvalid(await raw('Subject', '\\u0000'), 'Subject');
      assertInvalid(await raw('Sender', '\\u0000'), 'Sender');
      assertInvalid(await raw('Subject', '\\ud800'), 'Subject');
      assertInvalid(await raw('Body', '\\udc00'), 'Body');
      assertInvalid(await raw('Body', '\\u0001'), 'Body');
      assertInvalid(await raw('UserData', '\\u000b'), 'UserData');
      assertInvalid(await raw('Body', '\\uffff'), 'Body');
    });
    // Tabs and line breaks are fine, and so are characters outside the BMP.
    const ok = await raw('Body', '\\t\\r\\n\\ud83d\\ude00');
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(ok.json().records[0].EventData.includes('x\t\r\n😀y'));
  });

  it('rejects invalid appointment dates and times with 400 naming the field', async () => {
    const t = await eventTenant(h);
    await unchanged(h, async () => {
      for (const date of ['2026-02-30', '2026-13-01', '20260230', '2026-2-3', '2026/07/01', 'tomorrow', '2026-07-01T10:00', '2025-02-29']) {
        assertInvalid(await create(t, callback(t.groupId, { dtAppointmentDate: date })), 'dtAppointmentDate', date);
      }
      for (const time of ['25:00', '24:00', '10:60', '9:30', '10:00:00', 'noon', '10.30']) {
        assertInvalid(await create(t, callback(t.groupId, { dtAppointmentTime: time })), 'dtAppointmentTime', time);
      }
      assertInvalid(await create(t, callback(t.groupId, { dtAppointmentDate: 20260701 })), 'dtAppointmentDate');
    });
  });

  it("appointments in the client time zone resolve to dtAppointment as in jtel's examples", async () => {
    const t = await eventTenant(h); // Berlin; the clock reads 10:00 local
    const cases: [Record<string, unknown>, string | null][] = [
      [{}, null],
      [{ dtAppointmentDate: '', dtAppointmentTime: '' }, null],
      [{ dtAppointmentTime: '18:00' }, '2026-06-15T18:00:00.000'],
      [{ dtAppointmentTime: '0930' }, '2026-06-16T09:30:00.000'],
      [{ dtAppointmentTime: '10:00' }, '2026-06-15T10:00:00.000'],
      [{ dtAppointmentDate: '2026-07-01' }, '2026-07-01T00:00:00.000'],
      [{ dtAppointmentDate: '20260615' }, '2026-06-15T00:00:00.000'],
      [{ dtAppointmentDate: '20260615', dtAppointmentTime: '1030' }, '2026-06-15T10:30:00.000'],
      [{ dtAppointmentDate: '2026-06-14', dtAppointmentTime: '12:00' }, '2026-06-14T12:00:00.000'],
    ];
    for (const [extra, appointment] of cases) {
      const res = await create(t, callback(t.groupId, extra));
      assert.equal(res.statusCode, 200, res.body);
      const e = res.json().records[0];
      assert.equal(e.dtAppointment, appointment, JSON.stringify(extra));
      // jtel answers every new event in Distribute (1); the distributor reads dtAppointment.
      assert.equal(e.AcdEventStatusID, 1, JSON.stringify(extra));
    }
  });

  it('reads appointments on the wall clock of the client zone (New York)', async () => {
    const t = await eventTenant(h, { TimeZone: 'America/New_York' }); // the clock reads 04:00 local
    const e = (await create(t, callback(t.groupId, { dtAppointmentTime: '03:00' }))).json().records[0];
    assert.equal(e.dtAppointment, '2026-06-16T03:00:00.000');
    assert.equal(e.AcdEventStatusID, 1);
    const row = await h.store.db.selectFrom('acd_events').select('appointment_at').where('id', '=', e.ID).executeTakeFirstOrThrow();
    assert.equal(new Date(row.appointment_at!).toISOString(), '2026-06-16T07:00:00.000Z');
  });

  it('follows the injectable clock', async () => {
    const t = await eventTenant(h);
    const before = Date.UTC(2026, 5, 15, 8, 0, 0);
    try {
      h.clock.set(Date.UTC(2026, 5, 15, 17, 0, 0)); // 19:00 in Berlin
      const e = (await create(t, callback(t.groupId, { dtAppointmentTime: '18:00' }))).json().records[0];
      assert.equal(e.dtAppointment, '2026-06-16T18:00:00.000');
      assert.equal(e.dtCreated, '2026-06-15T19:00:00.000');
    } finally {
      h.clock.set(before);
    }
  });

  it('a group of another client is 404 and stores nothing', async () => {
    const t = await eventTenant(h);
    const foreignClient = await h.newClient();
    const foreignGroup = await addGroup(h.store.db, foreignClient.id);
    await unchanged(h, async () => {
      assert.equal((await create(t, callback(foreignGroup))).statusCode, 404);
    });
  });
});

// Groups, users and memberships for the event tests, inserted directly so these tests do not
// depend on the provisioning routes.
import assert from 'node:assert/strict';
import type { Kysely } from 'kysely';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import type { Database } from '../src/db/schema.ts';
import type { Harness, TestClient } from './helper.ts';

type GroupType = 'Standalone' | 'Configuration' | 'Agent';

let seq = 0;

export async function addGroup(
  db: Kysely<Database>,
  clientId: number,
  opts: { type?: GroupType; avoidDuplicates?: boolean; primaryAgentGroupId?: number; name?: string } = {},
): Promise<number> {
  const row = await db
    .insertInto('acd_groups')
    .values({
      client_id: clientId,
      name: opts.name ?? `Group ${++seq}`,
      group_type: opts.type ?? 'Standalone',
      primary_agent_group_id: opts.primaryAgentGroupId ?? null,
      b_avoid_duplicate_events: opts.avoidDuplicates ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function addUser(db: Kysely<Database>, clientId: number, memberOf: number[] = []): Promise<number> {
  const row = await db
    .insertInto('users')
    .values({ client_id: clientId, uid: `agent${++seq}` })
    .returning('id')
    .executeTakeFirstOrThrow();
  for (const groupId of memberOf) await db.insertInto('acd_group_members').values({ group_id: groupId, user_id: row.id }).execute();
  return row.id;
}

export interface EventTenant {
  client: TestClient;
  /** Standalone group, duplicates allowed. */
  groupId: number;
  /** Standalone group with bAvoidDuplicateEvents. */
  dedupGroupId: number;
  configurationGroupId: number;
  agentGroupId: number;
  /** Member of groupId and agentGroupId. */
  userId: number;
}

export async function eventTenant(h: Harness, input: { TimeZone?: string } = {}): Promise<EventTenant> {
  const client = await h.newClient(input);
  const db = h.store.db;
  const groupId = await addGroup(db, client.id);
  const dedupGroupId = await addGroup(db, client.id, { avoidDuplicates: true });
  const agentGroupId = await addGroup(db, client.id, { type: 'Agent' });
  const configurationGroupId = await addGroup(db, client.id, { type: 'Configuration', primaryAgentGroupId: agentGroupId });
  const userId = await addUser(db, client.id, [groupId, agentGroupId]);
  return { client, groupId, dedupGroupId, configurationGroupId, agentGroupId, userId };
}

/** jtel's callback example, aimed at `groupId`. */
export function callback(groupId: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AcdEventTypesID: 3,
    AcdGroupsID: groupId,
    UsersID: null,
    Sender: '49199123456789',
    Receiver: '4919900112233',
    Subject: 'Callback request from 49199123456789 on 2020.08.09 at 09:00',
    Body: 'This is an automatically generated callback request via the REST API.\r\nCongratulations!\r\n',
    CrmURL: '',
    UserData: '987654',
    ...extra,
  };
}

/** jtel's ticket example, aimed at `groupId`. */
export function ticket(groupId: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    AcdEventTypesID: 6,
    AcdGroupsID: groupId,
    UsersID: null,
    Sender: '',
    Receiver: '',
    Subject: 'A new ticket 123456 has been created via the REST API. Congratulations!',
    CrmURL: '',
    UserData: '123456',
    ...extra,
  };
}

/** Rows in the event tables, to show that a rejected request changed nothing. */
export async function eventRowCounts(db: Kysely<Database>): Promise<{ events: number; comments: number; history: number }> {
  const count = async (table: 'acd_events' | 'acd_event_comments' | 'acd_event_history') =>
    Number((await db.selectFrom(table).select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()).n);
  return { events: await count('acd_events'), comments: await count('acd_event_comments'), history: await count('acd_event_history') };
}

/** An assertion that a value matches `schema` (compiled once), failing with the schema errors. */
export function conformsTo(schema: TSchema): (value: unknown) => void {
  const check = Compile(schema);
  return (value) => assert.ok(check.Check(value), JSON.stringify([...check.Errors(value)]));
}

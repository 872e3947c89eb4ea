// Fixtures of the group and user suites: provisioning through the API (what is under test) and
// rows of other modules (ACD events) inserted directly, so these suites do not wait on them.
import assert from 'node:assert/strict';
import type { Harness, TestClient } from './helper.ts';

export interface GroupFields {
  Name: string;
  [field: string]: unknown;
}

/** Creates a group through the API and returns its record. */
export async function createGroup(c: TestClient, body: GroupFields): Promise<Record<string, any>> {
  const res = await c.post('/acd/groups/create', body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
}

export async function createUser(c: TestClient, body: { UID: string; [field: string]: unknown }): Promise<Record<string, any>> {
  const res = await c.post('/users/create', body);
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0];
}

export async function addMember(c: TestClient, groupId: number, userId: number, skills: Record<string, number> = {}): Promise<void> {
  const res = await c.request('PUT', `/acd/groups/group/${groupId}/members/${userId}`, { Skills: skills });
  assert.equal(res.statusCode, 200, res.body);
}

/** An ACD event row as the events module would store it; only what the rules here look at. */
export async function insertEvent(
  h: Harness,
  clientId: number,
  fields: {
    status: number;
    groupId?: number;
    configurationGroupId?: number;
    agentGroupId?: number;
    queueGroupId?: number;
    userId?: number;
    offeredUserId?: number;
  },
): Promise<number> {
  const row = await h.store.db
    .insertInto('acd_events')
    .values({
      client_id: clientId,
      type_id: 3,
      status_id: fields.status,
      group_id: fields.groupId ?? null,
      configuration_group_id: fields.configurationGroupId ?? null,
      agent_group_id: fields.agentGroupId ?? null,
      queue_group_id: fields.queueGroupId ?? fields.groupId ?? fields.agentGroupId ?? null,
      user_id: fields.userId ?? null,
      agent_id: fields.offeredUserId ?? null,
      sender: '49199123456789',
      receiver: null,
      subject: 'Callback request',
      body: null,
      crm_url: null,
      user_data: null,
      user_data2: null,
      user_data3: null,
      event_data: '<eventData/>',
      priority: 50,
      appointment_at: null,
      skills_id1: null, skills_value1: null,
      skills_id2: null, skills_value2: null,
      skills_id3: null, skills_value3: null,
      chat_connectors_id: null,
      acd_work_flow_connectors_id: null,
      acd_inboxes_id: null,
      work_flow_monitor_points_id: null,
      acd_replying_types_id: null,
      duplicate_key: null,
      lease_until: null,
      error_reason: null,
      received_at: null,
      remind_at: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

// Fixtures of the dialler engine suites: a campaign worked by a group, agents logged in to it, and
// contacts inserted as rows with the dialler state a test needs (the import has suites of its own).
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import type { Harness, TestClient } from './helper.ts';
import { createCampaign } from './fixtures-dialler.ts';
import { addMember, createGroup } from './fixtures-groups.ts';
import { newAgent, type TestAgent } from './fixtures-agents.ts';
import { forgetCampaignConfig } from '../src/dialler/sql/campaign-config.ts';

export interface DiallerSetup {
  client: TestClient;
  campaignId: number;
  groupId: number;
  codes: Record<string, number>;
}

export interface CampaignSettings {
  mode?: 'Manual' | 'Preview' | 'Progressive' | 'External';
  previewSeconds?: number | null;
  running?: boolean;
  maxParallel?: number | null;
  /** Replaces the standard windows; [] = around the clock. */
  windows?: { weekday: number; from: string; to: string }[];
  extra?: Record<string, unknown>;
}

/** A client with a campaign (standard result codes) worked by a new group. */
export async function diallerSetup(h: Harness, settings: CampaignSettings = {}): Promise<DiallerSetup> {
  const client = await h.newClient();
  const group = await createGroup(client, { Name: `Outbound ${Math.random()}` });
  const campaign = await createCampaign(client, `Campaign ${Math.random()}`, { nMaxParallelLines: null, dtTo: null, ...settings.extra });
  await configure(h, campaign.ID, { ...settings, groupId: group.ID });
  const codes = await h.store.db.selectFrom('dialler_result_codes').select(['id', 'export_key']).where('campaign_id', '=', campaign.ID).execute();
  return { client, campaignId: campaign.ID, groupId: group.ID, codes: Object.fromEntries(codes.map((c) => [c.export_key, c.id])) };
}

/** Sets engine settings straight in the row (the settings API has suites of its own). */
export async function configure(h: Harness, campaignId: number, s: CampaignSettings & { groupId?: number }): Promise<void> {
  const db = h.store.db;
  await db.updateTable('dialler_campaigns').set({
    ...(s.mode ? { mode: s.mode } : {}),
    ...(s.groupId ? { group_id: s.groupId } : {}),
    ...(s.previewSeconds !== undefined ? { contact_preview_time: s.previewSeconds } : {}),
    ...(s.maxParallel !== undefined ? { n_max_parallel_lines: s.maxParallel } : {}),
    b_running: s.running ?? true,
  }).where('id', '=', campaignId).execute();
  if (s.windows) {
    await db.deleteFrom('dialler_time_windows').where('campaign_id', '=', campaignId).execute();
    for (const w of s.windows) {
      await db.insertInto('dialler_time_windows').values({ campaign_id: campaignId, weekday: w.weekday, time_from: w.from, time_to: w.to }).execute();
    }
  }
  forgetCampaignConfig(db, campaignId);
}

/** An agent of the client, member of the campaign's group, logged in to the campaign. */
export async function diallerAgent(h: Harness, s: DiallerSetup): Promise<TestAgent> {
  const agent = await newAgent(h, s.client);
  await addMember(s.client, s.groupId, agent.userId);
  const res = await agent.request('POST', `/agents/me/dialler/campaigns/${s.campaignId}/login`);
  assert.equal(res.statusCode, 200, res.body);
  return agent;
}

export interface ContactRowInput {
  name?: string;
  phones?: (string | null)[];
  zone?: string;
  priority?: number;
  dueRank?: number;
  nextTry?: Date | '-infinity';
  boundUserId?: number | null;
  lastUserId?: number | null;
  tries?: number;
}

/** A contact row straight into the table; answers its id. */
export async function insertContact(h: Harness, s: DiallerSetup, c: ContactRowInput = {}): Promise<number> {
  const phones = c.phones ?? ['+4930123456'];
  const row = await h.store.db.insertInto('dialler_contacts').values({
    client_id: s.client.id,
    campaign_id: s.campaignId,
    name: c.name ?? 'Contact',
    phone_number1: phones[0] ?? null, phone_number2: phones[1] ?? null, phone_number3: phones[2] ?? null,
    phone_number4: phones[3] ?? null, phone_number5: phones[4] ?? null, phone_number6: phones[5] ?? null,
    time_zone: c.zone ?? 'Europe/Berlin',
    priority: c.priority ?? 0,
    due_rank: c.dueRank ?? 4,
    dt_next_try: c.nextTry ?? '-infinity',
    bound_user_id: c.boundUserId ?? null,
    last_user_id: c.lastUserId ?? null,
    n_tries: c.tries ?? 0,
    created_at: new Date(h.clock.now()),
    updated_at: new Date(h.clock.now()),
  }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function contactRow(h: Harness, id: number) {
  return h.store.db.selectFrom('dialler_contacts').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function contactChanges(h: Harness, id: number) {
  const { rows } = await sql<{ change: string; state: string; user_id: number | null; attempt_id: string | null; cause: number | null; reason: string | null }>`
    SELECT change, state, user_id, attempt_id::text, cause, reason FROM dialler_contact_history WHERE contact_id = ${id} ORDER BY id`.execute(h.store.db);
  return rows;
}

/** What the agent holds, as GET /agents/me/dialler answers it. */
export async function heldBy(agent: TestAgent) {
  const res = await agent.request('GET', '/agents/me/dialler');
  assert.equal(res.statusCode, 200, res.body);
  return res.json().records[0] as { Campaigns: number[]; Contacts: { DiallerContactsID: number; AttemptID: string; PhoneIndex: number; PhoneNumber: string; bStarted: boolean; dtPreviewEnds: string | null; HoldKind: string }[] };
}

/** Engine columns the settings API may not reach yet, set straight in the campaign's row. */
export interface EngineRules {
  maxTries?: number;
  maxTriesPerNumber?: number;
  maxTriesPerDay?: number;
  weight?: number;
  appointmentFallbackMinutes?: number | null;
  endsAt?: Date | null;
}

export async function setRules(h: Harness, campaignId: number, r: EngineRules): Promise<void> {
  const db = h.store.db;
  if (Object.keys(r).length === 0) return;
  await db.updateTable('dialler_campaigns').set({
    ...(r.maxTries !== undefined ? { n_max_tries: r.maxTries } : {}),
    ...(r.maxTriesPerNumber !== undefined ? { n_max_tries_per_number: r.maxTriesPerNumber } : {}),
    ...(r.maxTriesPerDay !== undefined ? { n_max_tries_per_day: r.maxTriesPerDay } : {}),
    ...(r.weight !== undefined ? { weight: r.weight } : {}),
    ...(r.appointmentFallbackMinutes !== undefined ? { appointment_fallback_minutes: r.appointmentFallbackMinutes } : {}),
    ...(r.endsAt !== undefined ? { dt_to: r.endsAt } : {}),
  }).where('id', '=', campaignId).execute();
  forgetCampaignConfig(db, campaignId);
}

/** Another campaign of the same client, worked by the same group. */
export async function secondCampaign(h: Harness, s: DiallerSetup, settings: CampaignSettings = {}): Promise<DiallerSetup> {
  const campaign = await createCampaign(s.client, `Campaign ${Math.random()}`, { nMaxParallelLines: null, dtTo: null, ...settings.extra });
  await configure(h, campaign.ID, { ...settings, groupId: s.groupId });
  const codes = await h.store.db.selectFrom('dialler_result_codes').select(['id', 'export_key']).where('campaign_id', '=', campaign.ID).execute();
  return { ...s, campaignId: campaign.ID, codes: Object.fromEntries(codes.map((c) => [c.export_key, c.id])) };
}

/** An agent of the setup's client, member of its group, logged in to none of its campaigns. */
export async function groupMember(h: Harness, s: DiallerSetup): Promise<TestAgent> {
  const agent = await newAgent(h, s.client);
  await addMember(s.client, s.groupId, agent.userId);
  return agent;
}

export async function joinCampaign(agent: TestAgent, campaignId: number): Promise<void> {
  const res = await agent.request('POST', `/agents/me/dialler/campaigns/${campaignId}/login`);
  assert.equal(res.statusCode, 200, res.body);
}

/** A whole number on the client's do-not-call list, with no expiry. */
export async function blockNumber(h: Harness, clientId: number, number: string): Promise<void> {
  await h.store.db.insertInto('dialler_do_not_call')
    .values({ client_id: clientId, number, b_prefix: false, expires_at: null, reason: 'test', created_at: new Date(h.clock.now()) })
    .execute();
}

/** Runs `body` with the harness clock at `at` (UTC, ISO), and puts the clock back afterwards. */
export async function atTime<T>(h: Harness, at: string, body: () => Promise<T>): Promise<T> {
  const before = h.clock.now();
  h.clock.set(Date.parse(at));
  try {
    return await body();
  } finally {
    h.clock.set(before);
  }
}

/** The one contact in the agent's hands after a pass (fails when there is none). */
export async function handedTo(h: Harness, agent: TestAgent) {
  await h.app.dialler.runPass();
  const held = (await heldBy(agent)).Contacts;
  assert.equal(held.length, 1, `expected one contact in the agent's hands, got ${JSON.stringify(held)}`);
  return held[0];
}

export async function agentResult(agent: TestAgent, contactId: number, body: Record<string, unknown>) {
  return agent.request('POST', `/agents/me/dialler/contacts/${contactId}/result`, body);
}

/** The moment in a contact row's timestamp column as epoch ms (-infinity comes back in two shapes). */
export function msOf(v: Date | string | null): number | null {
  if (v === null) return null;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? -Infinity : t;
}

// The agent's dialler desk [ours, spec §9]: the campaigns they may work, and for every contact in
// their hands what the preview shows — the contact itself, its dialler history and its campaign's
// result codes in the agent's language. Each part is read by the query its own endpoint uses
// (contact record, listDiallerContactHistory, listDiallerCampaignResultCodes), for all held
// contacts at once.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import { selectRecords } from '../../http/records.ts';
import type { LanguageId } from '../../domain/dialler.ts';
import { STATE_COLUMNS, type ContactRow } from '../../dialler/sql/contact-state.ts';
import { ContactRecord } from '../contacts/records.ts';
import { resultCodeTexts } from '../campaigns/repository.ts';
import { contactHistoryTexts } from './history-routes.ts';
import { heldContact, type HeldContact } from './service.ts';

type Db = Kysely<Database>;

export interface MyCampaign {
  DiallerCampaignsID: number;
  Name: string;
  Mode: string;
  bRunning: boolean;
  bLoggedIn: boolean;
}

export interface MyHeldContact extends HeldContact {
  Contact: unknown;
  History: unknown[];
  ResultCodes: unknown[];
}

export interface MyDialler {
  Campaigns: number[];
  Contacts: MyHeldContact[];
  AvailableCampaigns: MyCampaign[];
  LanguagesID: LanguageId;
}

/**
 * The campaigns an agent may log in to (jtel: those whose ACD group counts them among its
 * members), and any they are still logged in to after leaving that group, by Name.
 */
async function myCampaigns(db: Db, clientId: number, agentId: number): Promise<MyCampaign[]> {
  const { rows } = await sql<{ id: number; name: string; mode: string; b_running: boolean; logged_in: boolean }>`
    SELECT c.id, c.name, c.mode, c.b_running, l.user_id IS NOT NULL AS logged_in
    FROM dialler_campaigns c
    LEFT JOIN dialler_campaign_logins l ON l.campaign_id = c.id AND l.user_id = ${agentId}
    WHERE c.client_id = ${clientId}
      AND (l.user_id IS NOT NULL OR EXISTS (SELECT 1 FROM acd_group_members m WHERE m.group_id = c.group_id AND m.user_id = ${agentId}))
    ORDER BY c.name, c.id`.execute(db);
  return rows.map((r) => ({ DiallerCampaignsID: r.id, Name: r.name, Mode: r.mode, bRunning: r.b_running, bLoggedIn: r.logged_in }));
}

/** The agent's dialler state as JSON text (the texts the database builds go in unchanged). */
export async function myDialler(db: Db, client: ClientContext, agentId: number, language: LanguageId): Promise<string> {
  const { id: clientId, timeZone } = client;
  const campaigns = await myCampaigns(db, clientId, agentId);
  const { rows } = await sql<ContactRow>`SELECT ${STATE_COLUMNS} FROM dialler_contacts k
    WHERE k.holder_user_id = ${agentId} AND k.client_id = ${clientId} AND k.state = 'InProgress' ORDER BY k.id`.execute(db);
  const ids = rows.map((r) => r.id);
  const contacts = new Map<number, string>();
  const history = new Map<number, string[]>();
  const codes = new Map<number, string[]>();
  if (ids.length > 0) {
    const { rows: records } = await selectRecords(ContactRecord, timeZone, sql`k.client_id = ${clientId} AND k.id = ANY(${ids}::int[])`, sql``, sql`k.id`)
      .execute(db) as { rows: { j: string; id: number }[] };
    for (const r of records) contacts.set(r.id, r.j);
    for (const [id, texts] of await contactHistoryTexts(db, client, ids)) history.set(id, texts);
    for (const campaignId of new Set(rows.map((r) => r.campaign_id))) {
      codes.set(campaignId, await resultCodeTexts(db, clientId, campaignId, language, timeZone));
    }
  }
  const list = (texts: string[] | undefined) => `[${(texts ?? []).join(',')}]`;
  const held = rows.map((r) => {
    const base = JSON.stringify(heldContact(r, timeZone));
    return `${base.slice(0, -1)},"Contact":${contacts.get(r.id)},"History":${list(history.get(r.id))},"ResultCodes":${list(codes.get(r.campaign_id))}}`;
  });
  const loggedIn = campaigns.filter((c) => c.bLoggedIn).map((c) => c.DiallerCampaignsID).sort((a, b) => a - b);
  return `{"Campaigns":${JSON.stringify(loggedIn)},"Contacts":[${held.join(',')}],"AvailableCampaigns":${JSON.stringify(campaigns)},"LanguagesID":${language}}`;
}

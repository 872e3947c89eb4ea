// A contact's dialler history (spec §8.2: every hand-out, attempt and result is recorded per
// contact and readable) [ours].
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { ClientScopedParams, commonErrors, SingleEnvelope } from '../../http/schema-types.ts';
import { defineRecord, field, selectRecords } from '../../http/records.ts';
import { sendRecords } from '../../http/list.ts';
import { ContactNotFound } from '../../errors.ts';
import { SystemCause } from '../../domain/dialler-contact.ts';
import type { ClientContext } from '../../http/auth.ts';

const tags = ['Dialler engine'];

const causeName = `CASE h.cause ${Object.entries(SystemCause).map(([name, id]) => `WHEN ${id} THEN '${name}'`).join(' ')} END`;

export const ContactHistoryRecord = defineRecord(
  'DiallerContactHistory',
  {
    ID: field.int('h.id'),
    DiallerContactsID: field.int('h.contact_id'),
    DiallerCampaignsID: field.int('h.campaign_id'),
    AttemptID: field.text('h.attempt_id::text', { nullable: true }),
    Change: field.text('h.change', { description: 'HandedOut, AttemptStarted, Result, Skipped, Released, LeaseExpired, Closed, IncomingCall' }),
    State: field.text('h.state', { description: 'the contact\'s state after the change' }),
    UsersID: field.int('h.user_id', { nullable: true }),
    PhoneIndex: field.int('h.phone_index + 1', { nullable: true, description: '1..6: which of PhoneNumber1..6' }),
    PhoneNumber: field.text('h.phone_number', { nullable: true }),
    SystemCause: field.text(causeName, { nullable: true }),
    ResultCodesID: field.int('h.result_code_id', { nullable: true }),
    dtAppointment: field.timestamp('h.appointment_at', { nullable: true }),
    Comment: field.text('h.comment', { nullable: true }),
    Actor: field.text('h.actor'),
    Reason: field.text('h.reason', { nullable: true }),
    dtCreated: field.timestamp('h.created_at'),
  },
  { from: 'dialler_contact_history h', clientColumn: 'h.client_id', idColumn: 'h.id', defaultOrderBy: 'ID' },
);

/**
 * The history of these contacts of the client, oldest first per contact: the one query behind a
 * contact's history and the contacts in an agent's hands (getMyDialler).
 */
export async function contactHistoryTexts(db: Kysely<Database>, client: ClientContext, contactIds: readonly number[]): Promise<Map<number, string[]>> {
  const { rows } = await selectRecords(ContactHistoryRecord, client.timeZone,
    sql`h.contact_id = ANY(${contactIds}::int[]) AND h.client_id = ${client.id}`, sql`ORDER BY h.contact_id, h.id`, sql`h.contact_id`)
    .execute(db) as { rows: { j: string; contact_id: number }[] };
  const byContact = new Map<number, string[]>(contactIds.map((id) => [id, []]));
  for (const r of rows) byContact.get(r.contact_id)?.push(r.j);
  return byContact;
}

async function historyTexts(db: Kysely<Database>, client: ClientContext, contactId: number): Promise<string[]> {
  const { rows: known } = await sql`SELECT 1 FROM dialler_contacts WHERE id = ${contactId} AND client_id = ${client.id}`.execute(db);
  if (known.length === 0) throw new ContactNotFound();
  return (await contactHistoryTexts(db, client, [contactId])).get(contactId)!;
}

export const contactHistoryRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.get('/dialler/contacts/:DiallerContactsID/history', {
    schema: {
      tags, operationId: 'listDiallerContactHistory', summary: 'Every change of the contact in the dialler, oldest first',
      params: ClientScopedParams('DiallerContactsID'),
      response: { 200: SingleEnvelope(ContactHistoryRecord.schema), ...commonErrors },
    },
  }, async (request, reply) => sendRecords(reply, await historyTexts(db, request.client, request.params.DiallerContactsID)));
};

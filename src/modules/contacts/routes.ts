// Dialler contacts (spec §5.3).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope } from '../../http/schema-types.ts';
import { clientScope, listQuerySchema, planList, sendList, sendRecords } from '../../http/list.ts';
import { ContactRecord } from './records.ts';
import { ImportContactBody, ImportQuery } from './schemas.ts';
import { contactById, importContact, requireCampaign } from './service.ts';
import { contactFileRoutes, type FileRoutesOptions } from './file-routes.ts';

const tags = ['Dialler contacts'];
/** Names the fields of an imported contact whose numbers are on the do-not-call list. */
export const DO_NOT_CALL_HEADER = 'switchboard-do-not-call';
const Contact = ContactRecord.schema;

const ContactListQuery = listQuerySchema(ContactRecord, {
  diallerCampaignsID: Type.Optional(Type.Integer({
    minimum: 1, maximum: 2147483647,
    description: "only this campaign's contacts (jtel spelling); an unknown campaign answers 404",
  })),
});

export const contactRoutes: FastifyPluginAsyncTypebox<FileRoutesOptions> = async (app, options) => {
  const db = app.store.db;
  // Its own plugin: the file content types it accepts reach no other route.
  await app.register(contactFileRoutes, options);

  app.get('/dialler/contacts', {
    schema: {
      tags,
      operationId: 'listDiallerContacts',
      summary: 'All dialler contacts of the client, or of one campaign',
      querystring: ContactListQuery,
      response: { 200: ListEnvelope(Contact), ...commonErrors },
    },
  }, async (request, reply) => {
    const { client } = request;
    const campaignId = (request.query as { diallerCampaignsID?: number }).diallerCampaignsID;
    const narrower = campaignId === undefined ? undefined : sql`k.campaign_id = ${await requireCampaign(db, client, campaignId)}`;
    const plan = planList(ContactRecord, request.query, clientScope(ContactRecord, client.id, narrower), client.timeZone);
    // The jtel parameter is the same filter as DiallerCampaignsID, so it is echoed under that name.
    if (campaignId !== undefined) plan.filter = [`DiallerCampaignsID=${campaignId}`, plan.filter].filter(Boolean).join('&');
    return sendList(reply, db, ContactRecord, plan, client.timeZone);
  });

  app.get('/dialler/contacts/:DiallerContactsID', {
    schema: {
      tags,
      operationId: 'getDiallerContact',
      summary: 'One dialler contact by ID',
      params: ClientScopedParams('DiallerContactsID'),
      response: { 200: SingleEnvelope(Contact), ...commonErrors },
    },
  }, async (request, reply) => {
    const texts = await contactById(db, request.client, request.params.DiallerContactsID);
    return sendRecords(reply, texts);
  });

  app.post('/dialler/contacts/import', {
    schema: {
      tags,
      operationId: 'importDiallerContact',
      summary: 'Import one contact into a campaign, optionally overwriting the one with the same UserData',
      description: 'A number on the do-not-call list is imported all the same (it is never handed out); the answer then names '
        + `the fields holding such numbers in the \`${DO_NOT_CALL_HEADER}\` header, e.g. \`PhoneNumber1,PhoneNumber3\`. `
        + 'With overwriteDuplicates and resetDiallerState, a contact in progress answers 409.',
      querystring: ImportQuery,
      body: ImportContactBody,
      response: { 200: SingleEnvelope(Contact), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const options = { overwrite: request.query.overwriteDuplicates ?? false, reset: request.query.resetDiallerState ?? false };
    const answer = await importContact(db, request.client, app.clock.now(), request.body, options);
    if (answer.doNotCall.length > 0) reply.header(DO_NOT_CALL_HEADER, answer.doNotCall.join(','));
    return sendRecords(reply, answer.texts);
  });
};

// System-level provisioning of client accounts (admin token).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { sql } from 'kysely';
import { commonErrors, conflict, IdParam, ListEnvelope, SingleEnvelope } from '../../http/schema-types.ts';
import { defineRecord, field } from '../../http/records.ts';
import { listQuerySchema, planList, sendList } from '../../http/list.ts';
import { createClient, rotateClientToken } from './service.ts';

export const ClientRecord = defineRecord(
  'Client',
  {
    ID: field.int('c.id'),
    Name: field.text('c.name'),
    TimeZone: field.text('c.time_zone'),
    dtCreated: field.timestamp('c.created_at'),
    dtLastModified: field.timestamp('c.updated_at'),
  },
  { from: 'clients c', clientColumn: 'c.id', idColumn: 'c.id', defaultOrderBy: 'ID' },
);

const Credentials = Type.Object({ ClientsID: Type.Integer(), Token: Type.String() });
const tags = ['Provisioning: clients'];
// Admin listings show timestamps in UTC: they span clients of different zones.
const ADMIN_ZONE = 'UTC';

export const clientRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post('/clients/create', {
    schema: {
      tags,
      operationId: 'createClient',
      summary: 'Create a client account (tenant) and its first token',
      body: Type.Object(
        {
          Name: Type.String({ minLength: 1, maxLength: 256 }),
          TimeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, default Europe/Berlin' })),
        },
        { additionalProperties: false },
      ),
      response: { 200: SingleEnvelope(Credentials), ...commonErrors, ...conflict },
    },
  }, async (request) => {
    const created = await createClient(app.store.db, request.body);
    app.credentials.forgetClient(created.ClientsID);
    return { records: [created], count: 1, status: 200 };
  });

  app.get('/clients', {
    schema: { tags, operationId: 'listClients', summary: 'All client accounts', querystring: listQuerySchema(ClientRecord), response: { 200: ListEnvelope(ClientRecord.schema), ...commonErrors } },
  }, async (request, reply) => {
    const plan = planList(ClientRecord, request.query, sql`true`, ADMIN_ZONE);
    return sendList(reply, app.store.db, ClientRecord, plan, ADMIN_ZONE);
  });

  app.post('/clients/client/:ClientsID/token', {
    schema: {
      tags,
      operationId: 'rotateClientToken',
      summary: "Generate a new token for a client; the previous one stops working at once",
      params: IdParam('ClientsID'),
      response: { 200: SingleEnvelope(Credentials), ...commonErrors },
    },
  }, async (request) => {
    const credentials = await rotateClientToken(app.store.db, request.params.ClientsID);
    app.credentials.forgetClient(request.params.ClientsID);
    return { records: [credentials], count: 1, status: 200 };
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { EventNotFound } from '../../errors.ts';
import { listQuerySchema, memoryList, sendClientList, sendRecords } from '../../http/list.ts';
import { field, type RecordDef } from '../../http/records.ts';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope } from '../../http/schema-types.ts';
import { EVENT_STATUSES, EVENT_TYPES } from './enumerations.ts';
import { CommentRecord, CreatedEventSchema, EventRecord, HistoryRecord } from './records.ts';
import { eventExists, findEventJson } from './repository.ts';
import { CreateEventBody } from './schemas.ts';
import { createEvent } from './service.ts';

const tags = ['ACD events'];
const Enumeration = Type.Object({ ShortText: Type.String(), ID: Type.Integer() });
// The enumerations are lists like any other (§1.3); their rows live in memory, not in SQL.
const EnumerationFields = { fields: { ShortText: field.text('ShortText'), ID: field.int('ID') }, defaultOrderBy: 'ID' };
const EnumerationQuery = listQuerySchema(EnumerationFields);

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/acd/events/types', {
    schema: { tags, operationId: 'listAcdEventTypes', summary: 'All ACD event types (system-wide)', querystring: EnumerationQuery, response: { 200: ListEnvelope(Enumeration), ...commonErrors } },
  }, async (request) => memoryList(EnumerationFields, request.query, EVENT_TYPES));

  app.get('/acd/events/status', {
    schema: { tags, operationId: 'listAcdEventStatuses', summary: 'All ACD event statuses (system-wide)', querystring: EnumerationQuery, response: { 200: ListEnvelope(Enumeration), ...commonErrors } },
  }, async (request) => memoryList(EnumerationFields, request.query, EVENT_STATUSES));

  app.get('/acd/events', {
    schema: {
      tags,
      operationId: 'listAcdEvents',
      summary: 'All ACD events of the client',
      description: 'List parameters: limitStart, limitPageSize, orderBy (default dtCreated), ascending, and equality filters on any record field.',
      querystring: listQuerySchema(EventRecord),
      response: { 200: ListEnvelope(EventRecord.schema), ...commonErrors },
    },
  }, async (request, reply) => {
    return sendClientList(reply, app.store.db, EventRecord, request.query, request.client);
  });

  app.get('/acd/events/event/:AcdEventsID', {
    schema: {
      tags,
      operationId: 'getAcdEvent',
      summary: 'One ACD event',
      params: ClientScopedParams('AcdEventsID'),
      response: { 200: SingleEnvelope(EventRecord.schema), ...commonErrors },
    },
  }, async (request, reply) => {
    const { id, timeZone } = request.client;
    const json = await findEventJson(app.store.db, id, request.params.AcdEventsID, timeZone);
    if (json === undefined) throw new EventNotFound();
    return sendRecords(reply, [json]);
  });

  app.post('/acd/events/create', {
    schema: {
      tags,
      operationId: 'createAcdEvent',
      summary: 'Create an ACD event (or, where the group avoids duplicates, update the open one with the same key)',
      body: CreateEventBody,
      response: { 200: SingleEnvelope(CreatedEventSchema), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const json = await createEvent(app.store.db, request.client, request.body, app.clock.now());
    return sendRecords(reply, [json]);
  });

  const eventChildren = (path: string, record: RecordDef, operationId: string, summary: string) =>
    app.get(`/acd/events/event/:AcdEventsID/${path}`, {
      schema: {
        tags,
        operationId,
        summary,
        params: ClientScopedParams('AcdEventsID'),
        querystring: listQuerySchema(record),
        response: { 200: ListEnvelope(record.schema), ...commonErrors },
      },
    }, async (request, reply) => {
      const { id } = request.client;
      const eventId = request.params.AcdEventsID;
      if (!(await eventExists(app.store.db, id, eventId))) throw new EventNotFound();
      return sendClientList(reply, app.store.db, record, request.query, request.client, sql`x.event_id = ${eventId}`);
    });
  eventChildren('comments', CommentRecord, 'listAcdEventComments', "An ACD event's comments, e.g. repeated requests merged into it [extension]");
  eventChildren('history', HistoryRecord, 'listAcdEventHistory', "An ACD event's status changes [extension]");
};

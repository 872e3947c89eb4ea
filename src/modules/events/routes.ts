import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import type { FastifyRequest } from 'fastify';
import { AgentTokenRequired, EventNotFound } from '../../errors.ts';
import { listQuerySchema, memoryList, sendClientList, sendRecords } from '../../http/list.ts';
import { field, type RecordDef } from '../../http/records.ts';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope } from '../../http/schema-types.ts';
import { EVENT_STATUSES, EVENT_TYPES } from './enumerations.ts';
import { CommentRecord, CreatedEventSchema, EventRecord, HistoryRecord } from './records.ts';
import { agentHadEvent, eventExists, findEventJson } from './repository.ts';
import { CreateEventBody } from './schemas.ts';
import { createEvent } from './service.ts';
import { WorkItemRecord } from '../work/records.ts';

const tags = ['ACD events'];
const MY_EVENTS = '/agents/me/events';

/** The agent behind an /agents/me request (the auth hook lets only agents through there). */
function agentOf(request: FastifyRequest): number {
  if (request.actor.kind !== 'agent') throw new AgentTokenRequired();
  return request.actor.userId;
}

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
      description: 'List parameters: limitStart, limitPageSize, orderBy (default dtCreated), ascending, and equality filters on any record field. '
        + 'Each record is the jtel AcdEvent followed by who holds it [ours]: AgentUsersID, dtOfferExpires, ErrorReason; '
        + '`?AgentUsersID=<UsersID>` lists the work one agent has offered or in hand.',
      querystring: listQuerySchema(WorkItemRecord),
      response: { 200: ListEnvelope(WorkItemRecord.schema), ...commonErrors },
    },
  }, async (request, reply) => {
    // The work item record: a supervisor sees who holds each event, and can filter by it.
    return sendClientList(reply, app.store.db, WorkItemRecord, request.query, request.client);
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

  // The comments and history of an event: for the client (any of its events), and for an agent
  // (an event they hold or held once; any other is the same 404 as no event, so an agent cannot
  // probe other agents' work). One list, one query, whoever asks.
  const eventChildren = (prefix: string, path: string, record: RecordDef, operationId: string, summary: string, tag: string[]) =>
    app.get(`${prefix}/:AcdEventsID/${path}`, {
      schema: {
        tags: tag,
        operationId,
        summary,
        params: ClientScopedParams('AcdEventsID'),
        querystring: listQuerySchema(record),
        response: { 200: ListEnvelope(record.schema), ...commonErrors, ...(prefix === MY_EVENTS && { 403: Type.Ref('ErrorBody') }) },
      },
    }, async (request, reply) => {
      const { id } = request.client;
      const eventId = request.params.AcdEventsID;
      const visible = prefix === MY_EVENTS
        ? await agentHadEvent(app.store.db, id, eventId, agentOf(request))
        : await eventExists(app.store.db, id, eventId);
      if (!visible) throw new EventNotFound();
      return sendClientList(reply, app.store.db, record, request.query, request.client, sql`x.event_id = ${eventId}`);
    });
  eventChildren('/acd/events/event', 'comments', CommentRecord, 'listAcdEventComments', "An ACD event's comments, e.g. repeated requests merged into it [extension]", tags);
  eventChildren('/acd/events/event', 'history', HistoryRecord, 'listAcdEventHistory', "An ACD event's status changes [extension]", tags);
  const agentSummary = 'of an event I hold or held once (offered to me or in my hands at some point); any other event: 404';
  eventChildren(MY_EVENTS, 'comments', CommentRecord, 'listMyAcdEventComments', `The comments ${agentSummary}`, ['Agent work']);
  eventChildren(MY_EVENTS, 'history', HistoryRecord, 'listMyAcdEventHistory', `The status changes ${agentSummary}`, ['Agent work']);
};

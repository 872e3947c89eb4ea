// The client's do-not-call list (spec §8.2) [ours]: numbers and prefixes, each with an optional
// expiry, never handed out while in force.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { DoNotCallRecord } from './records.ts';
import { DoNotCallCheckBody, DoNotCallCheckResult, DoNotCallCreateBody } from './schemas.ts';
import * as dnc from './service.ts';

const tags = ['Dialler do-not-call list'];

// No addSchema here: a plugin that adds schemas gets Fastify's default validator for its
// bodies instead of the app's strict one (unknown fields would be accepted, types coerced).
export const doNotCallRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const Entry = DoNotCallRecord.schema;

  app.get('/dialler/doNotCall', {
    schema: {
      tags, operationId: 'listDoNotCallEntries', summary: 'The client\'s do-not-call list, expired entries included (default orderBy Number)',
      params: ClientScopedParams(),
      querystring: listQuerySchema(DoNotCallRecord),
      response: { 200: ListEnvelope(Entry), ...commonErrors },
    },
  }, async (request, reply) => sendClientList(reply, db, DoNotCallRecord, request.query, request.client));

  app.post('/dialler/doNotCall/create', {
    schema: {
      tags, operationId: 'createDoNotCallEntry', summary: 'Put a number or prefix on the list; the same one in force already: 409 (an expired one is replaced)',
      params: ClientScopedParams(),
      body: DoNotCallCreateBody,
      response: { 200: SingleEnvelope(Entry), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => sendRecords(reply, await dnc.createEntry(db, request.client, request.body, app.clock.now())));

  app.post('/dialler/doNotCall/check', {
    schema: {
      tags, operationId: 'checkDoNotCallNumbers', summary: 'Which of the numbers the list blocks now (one record per number, in the order given)',
      params: ClientScopedParams(),
      body: DoNotCallCheckBody,
      response: { 200: SingleEnvelope(DoNotCallCheckResult), ...commonErrors },
    },
  }, async (request) => {
    const records = await dnc.checkNumbers(db, request.client.id, request.body.Numbers, app.clock.now());
    return { records, count: records.length, status: 200 };
  });

  app.get('/dialler/doNotCall/:DiallerDoNotCallID', {
    schema: {
      tags, operationId: 'getDoNotCallEntry', summary: 'One entry of the list',
      params: ClientScopedParams('DiallerDoNotCallID'),
      response: { 200: SingleEnvelope(Entry), ...commonErrors },
    },
  }, async (request, reply) => sendRecords(reply, await dnc.getEntry(db, request.client, request.params.DiallerDoNotCallID)));

  app.delete('/dialler/doNotCall/:DiallerDoNotCallID', {
    schema: {
      tags, operationId: 'deleteDoNotCallEntry', summary: 'Take an entry off the list',
      params: ClientScopedParams('DiallerDoNotCallID'),
      response: { 200: StatusOnly, ...commonErrors },
    },
  }, async (request) => {
    await dnc.deleteEntry(db, request.client.id, request.params.DiallerDoNotCallID);
    return { status: 200 };
  });
};

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { commonErrors, ListEnvelope } from '../../http/schema-types.ts';
import { EVENT_STATUSES, EVENT_TYPES } from './enumerations.ts';

const tags = ['ACD events'];
const Enumeration = Type.Object({ ShortText: Type.String(), ID: Type.Integer() });

function enumerationEnvelope(records: readonly { ID: number; ShortText: string }[]) {
  return {
    filter: '', limitStart: 0, limitPageSize: -1,
    records: records.map((r) => ({ ShortText: r.ShortText, ID: r.ID })),
    count: records.length, orderBy: 'ID', ascending: true, status: 200,
  };
}

export const eventRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get('/acd/events/types', {
    schema: { tags, summary: 'All ACD event types (system-wide)', response: { 200: ListEnvelope(Enumeration), ...commonErrors } },
  }, async () => enumerationEnvelope(EVENT_TYPES));

  app.get('/acd/events/status', {
    schema: { tags, summary: 'All ACD event statuses (system-wide)', response: { 200: ListEnvelope(Enumeration), ...commonErrors } },
  }, async () => enumerationEnvelope(EVENT_STATUSES));
};

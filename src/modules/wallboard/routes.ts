// The supervisor view's wallboard [ours, spec §9]: client token or a supervisor's console session.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientScopedParams, commonErrors, ListEnvelope } from '../../http/schema-types.ts';
import { WallboardGroup } from './schemas.ts';
import { wallboard } from './service.ts';

export const wallboardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.get('/acd/groups/wallboard', {
    schema: {
      tags: ['Agent work'], operationId: 'getAcdGroupsWallboard',
      summary: 'Supervisor: every group at a glance (queue, longest wait, today\'s service level, members by state); ordered by Name',
      params: ClientScopedParams(),
      response: { 200: ListEnvelope(WallboardGroup), ...commonErrors },
    },
  }, async (request, reply) => {
    const records = await wallboard(db, request.client, app.clock.now());
    reply.header('cache-control', 'no-store');
    return { filter: '', limitStart: 0, limitPageSize: -1, records, count: records.length, orderBy: 'Name', ascending: true, status: 200 };
  });
};

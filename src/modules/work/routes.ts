// The agent's work [ours]: their inbox and the actions on events they hold (agent token, under
// /agents/me), and the supervisor's view of a queue and reassignment (client token).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { AgentTokenRequired } from '../../errors.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope } from '../../http/schema-types.ts';
import { HELD_STATUSES, type AgentAction } from '../../domain/event-flow.ts';
import { WorkItemRecord } from './records.ts';
import { CommentBody, MoveBody, OptionalCommentBody, RemindBody } from './schemas.ts';
import * as work from './service.ts';

const tags = ['Agent work'];
const errors = { ...commonErrors, 403: Type.Ref('ErrorBody') };

function agentOf(request: FastifyRequest): number {
  if (request.actor.kind !== 'agent') throw new AgentTokenRequired();
  return request.actor.userId;
}

const QueueView = Type.Object(
  {
    AcdGroupsID: Type.Integer(),
    Waiting: Type.Integer({ description: 'Events in the queue (status 4)' }),
    Offered: Type.Integer({ description: 'Events offered to an agent, not yet accepted (status 10)' }),
    InHand: Type.Integer({ description: 'Events agents hold: new, seen or set aside (20, 30, 40)' }),
    OldestWaitingSeconds: Type.Union([Type.Integer(), Type.Null()], { description: 'Age of the oldest waiting event; null when none waits' }),
    AgentsLoggedIn: Type.Integer({ description: 'Agents logged in to the ACD and to this group' }),
  },
  { $id: 'AcdGroupQueue', additionalProperties: false },
);

export const workRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const Item = WorkItemRecord.schema;
  const one = { 200: SingleEnvelope(Item), ...errors, ...conflict };

  app.get('/agents/me/events', {
    schema: {
      tags,
      operationId: 'listMyAcdEvents',
      summary: 'My inbox: the events offered to me (10) or in my hands (20, 30, 40); default orderBy dtCreated',
      params: ClientScopedParams(),
      querystring: listQuerySchema(WorkItemRecord),
      response: { 200: ListEnvelope(Item), ...errors },
    },
  }, async (request, reply) => {
    const me = agentOf(request);
    return sendClientList(reply, db, WorkItemRecord, request.query, request.client,
      sql`e.agent_id = ${me} AND e.status_id IN (${sql.join(HELD_STATUSES.map((s) => sql.lit(s)))})`);
  });

  const action = (path: string, name: AgentAction, operationId: string, summary: string, body: typeof OptionalCommentBody | typeof CommentBody | typeof RemindBody | typeof MoveBody) =>
    app.post(`/agents/me/events/:AcdEventsID/${path}`, {
      schema: { tags, operationId, summary, params: ClientScopedParams('AcdEventsID'), body, response: one },
    }, async (request, reply) => {
      const input = (request.body ?? {}) as work.ActionInput;
      const json = await work.act(db, app.clock, request.client, request.actor, agentOf(request), request.params.AcdEventsID, name, input);
      return sendRecords(reply, [json]);
    });

  action('accept', 'accept', 'acceptAcdEvent', 'Accept an offer (10 → 20 New); 409 once the offer has expired', OptionalCommentBody);
  action('reject', 'reject', 'rejectAcdEvent', 'Turn an offer down (10 → 4): it goes back to its queue in its original place', OptionalCommentBody);
  action('seen', 'seen', 'markAcdEventSeen', 'Mark as opened (20 → 30 Seen)', OptionalCommentBody);
  action('remind', 'remind', 'setAcdEventAside', 'Set aside until dtRemind (→ 40 Remind); it comes back to me as New then, and meanwhile frees its place', RemindBody);
  action('done', 'done', 'finishAcdEvent', 'Finish (→ 99 Done), optionally with a comment', OptionalCommentBody);
  action('forward', 'forward', 'forwardAcdEvent', 'Hand on to another group and/or agent (→ 4): distributed again there', MoveBody);
  action('comment', 'comment', 'commentAcdEvent', 'Add a comment to an event I hold', CommentBody);

  app.post('/acd/events/event/:AcdEventsID/reassign', {
    schema: {
      tags,
      operationId: 'reassignAcdEvent',
      summary: 'Supervisor: move an event (waiting, offered, in hand or failed) to another group and/or agent; it is distributed again there',
      params: ClientScopedParams('AcdEventsID'),
      body: MoveBody,
      response: one,
    },
  }, async (request, reply) => {
    const json = await work.reassign(db, app.clock, request.client, request.actor, request.params.AcdEventsID, request.body);
    return sendRecords(reply, [json]);
  });

  app.get('/acd/groups/group/:AcdGroupsID/queue', {
    schema: {
      tags,
      operationId: 'getAcdGroupQueue',
      summary: 'Supervisor: a group\'s queue at a glance',
      params: ClientScopedParams('AcdGroupsID'),
      response: { 200: SingleEnvelope(QueueView), ...errors },
    },
  }, async (request) => {
    const view = await work.queueView(db, request.client, request.params.AcdGroupsID, app.clock.now());
    return { records: [view], count: 1, status: 200 };
  });
};

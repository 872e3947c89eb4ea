// Agents [ours]: passwords (provisioning), login with an agent session token, the agent's own
// state under /agents/me, and the supervisor's view and controls with the client token.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { AgentTokenRequired } from '../../errors.ts';
import type { Actor } from '../../http/auth.ts';
import { AgentRecord } from './records.ts';
import { AgentSession, CapacityBody, LoginBody, PasswordBody } from './schemas.ts';
import * as agents from './service.ts';

const tags = ['Agents'];
const errors = { ...commonErrors, 403: Type.Ref('ErrorBody') };

/** The agent behind an /agents/me request (the auth hook lets only agent tokens through there). */
function me(request: FastifyRequest): number {
  return session(request).userId;
}

function session(request: FastifyRequest): Extract<Actor, { kind: 'agent' }> {
  if (request.actor.kind !== 'agent') throw new AgentTokenRequired();
  return request.actor;
}

export const agentRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const Agent = AgentRecord.schema;
  const agentState = { 200: SingleEnvelope(Agent), ...errors };
  const groupLogin = { ...agentState, ...conflict };

  app.put('/users/user/:UsersID/password', {
    schema: {
      tags, operationId: 'setUserPassword', summary: 'Set the password the user logs in with as an agent; ends their open sessions',
      params: ClientScopedParams('UsersID'),
      body: PasswordBody,
      response: { 200: StatusOnly, ...errors },
    },
  }, async (request) => {
    await agents.setPassword(db, app.clock, request.client, request.params.UsersID, request.body.Password);
    app.credentials.forgetAgent(request.params.UsersID);
    return { status: 200 };
  });

  app.post('/agents/login', {
    config: { public: true, loginThrottle: true },
    schema: {
      tags, operationId: 'loginAgent', summary: `Log in as an agent (no token needed): answers an agent session token valid ${agents.SESSION_HOURS} h. Any failure: the same 401`,
      security: [],
      params: ClientScopedParams(),
      body: LoginBody,
      response: { 200: SingleEnvelope(AgentSession), 400: Type.Ref('ErrorBody'), 401: Type.Ref('ErrorBody') },
    },
  }, async (request) => {
    const grant = await agents.login(db, app.clock, request.params.ClientsID, request.body.UID, request.body.Password);
    return { records: [grant], count: 1, status: 200 };
  });

  app.post('/agents/me/logout', {
    schema: {
      tags, operationId: 'logoutAgentSession', summary: 'End this agent session: its token stops working at once (the ACD state stays as it is)',
      params: ClientScopedParams(),
      response: { 200: StatusOnly, ...errors },
    },
  }, async (request) => {
    const { sessionId, userId } = session(request);
    await agents.logout(db, sessionId);
    app.credentials.forgetAgent(userId);
    return { status: 200 };
  });

  app.get('/agents/me', {
    schema: { tags, operationId: 'getMyAgentState', summary: 'My agent state (agent token)', params: ClientScopedParams(), response: agentState },
  }, async (request, reply) => sendRecords(reply, await agents.getAgent(db, request.client, me(request))));

  app.post('/agents/me/acd/login', {
    schema: {
      tags, operationId: 'loginToAcd', summary: 'Log in to the ACD. Events reach me only in groups I am also logged in to: both logins are needed',
      params: ClientScopedParams(), response: agentState,
    },
  }, async (request, reply) => sendRecords(reply, await agents.setAcdLogin(db, app.clock, request.client, request.actor, me(request), true)));

  app.post('/agents/me/acd/logout', {
    schema: {
      tags, operationId: 'logoutFromAcd', summary: 'Log out of the ACD; my group logins stay, so logging in again restores them',
      params: ClientScopedParams(), response: agentState,
    },
  }, async (request, reply) => sendRecords(reply, await agents.setAcdLogin(db, app.clock, request.client, request.actor, me(request), false)));

  app.post('/agents/me/groups/:AcdGroupsID/login', {
    schema: {
      tags, operationId: 'loginToAcdGroup', summary: 'Log in to one ACD group I am a member of (else 409). Implies nothing about the ACD login: both are needed for events to reach me',
      params: ClientScopedParams('AcdGroupsID'), response: groupLogin,
    },
  }, async (request, reply) => {
    const userId = me(request);
    return sendRecords(reply, await agents.setGroupLogin(db, app.clock, request.client, request.actor, userId, request.params.AcdGroupsID, true));
  });

  app.post('/agents/me/groups/:AcdGroupsID/logout', {
    schema: {
      tags, operationId: 'logoutFromAcdGroup', summary: 'Log out of one ACD group I am a member of (else 409)',
      params: ClientScopedParams('AcdGroupsID'), response: groupLogin,
    },
  }, async (request, reply) => {
    const userId = me(request);
    return sendRecords(reply, await agents.setGroupLogin(db, app.clock, request.client, request.actor, userId, request.params.AcdGroupsID, false));
  });

  app.get('/agents', {
    schema: {
      tags, operationId: 'listAgents', summary: 'The agent state of every user of the client (default orderBy UID)',
      params: ClientScopedParams(),
      querystring: listQuerySchema(AgentRecord),
      response: { 200: ListEnvelope(Agent), ...errors },
    },
  }, async (request, reply) => {
    return sendClientList(reply, db, AgentRecord, request.query, request.client);
  });

  app.get('/agents/agent/:UsersID', {
    schema: { tags, operationId: 'getAgent', summary: 'One user\'s agent state', params: ClientScopedParams('UsersID'), response: agentState },
  }, async (request, reply) => sendRecords(reply, await agents.getAgent(db, request.client, request.params.UsersID)));

  app.put('/agents/agent/:UsersID/capacity', {
    schema: {
      tags, operationId: 'setAgentCapacity', summary: 'Set how many open events of each type the agent may hold at once; types not named keep theirs',
      params: ClientScopedParams('UsersID'),
      body: CapacityBody,
      response: agentState,
    },
  }, async (request, reply) => {
    const { client, actor, params, body } = request;
    return sendRecords(reply, await agents.setCapacity(db, app.clock, client, actor, params.UsersID, body.Capacity));
  });

  app.post('/agents/agent/:UsersID/logout', {
    schema: {
      tags, operationId: 'forceAgentLogout', summary: 'Force the agent out of the ACD and every group (their sessions stay valid)',
      params: ClientScopedParams('UsersID'), response: agentState,
    },
  }, async (request, reply) => sendRecords(reply, await agents.forceLogout(db, app.clock, request.client, request.actor, request.params.UsersID)));
};

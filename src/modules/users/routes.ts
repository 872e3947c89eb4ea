// Users (agents) [jtel reads, our provisioning].
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { UserRecord } from './records.ts';
import { UserCreateBody, UserUpdateBody } from './schemas.ts';
import * as users from './service.ts';

const tags = ['Users'];


export const userRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const User = UserRecord.schema;

  app.get('/users', {
    schema: {
      tags, operationId: 'listUsers', summary: 'All users of the client with their ACD group memberships (default orderBy UID)',
      params: ClientScopedParams(),
      querystring: listQuerySchema(UserRecord),
      response: { 200: ListEnvelope(User), ...commonErrors },
    },
  }, async (request, reply) => {
    return sendClientList(reply, db, UserRecord, request.query, request.client);
  });

  app.get('/users/user/:UsersID', {
    schema: {
      tags, operationId: 'getUser', summary: 'One user by ID',
      params: ClientScopedParams('UsersID'),
      response: { 200: SingleEnvelope(User), ...commonErrors },
    },
  }, async (request, reply) => sendRecords(reply, await users.getUser(db, request.client, request.params.UsersID)));

  app.post('/users/create', {
    schema: {
      tags, operationId: 'createUser', summary: 'Create a user [ours]; same UID in the client: 409',
      params: ClientScopedParams(),
      body: UserCreateBody,
      response: { 200: SingleEnvelope(User), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => sendRecords(reply, await users.createUser(db, app.clock, request.client, request.body)));

  app.patch('/users/user/:UsersID', {
    schema: {
      tags, operationId: 'updateUser', summary: 'Change fields of a user [ours]; null clears a nullable field',
      params: ClientScopedParams('UsersID'),
      body: UserUpdateBody,
      response: { 200: SingleEnvelope(User), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => sendRecords(reply, await users.updateUser(db, app.clock, request.client, request.params.UsersID, request.body)));

  app.delete('/users/user/:UsersID', {
    schema: {
      tags, operationId: 'deleteUser', summary: 'Delete a user and their memberships [ours]; events reserved for them become Error (100), events they hold return to their queues',
      params: ClientScopedParams('UsersID'),
      response: { 200: StatusOnly, ...commonErrors },
    },
  }, async (request) => {
    await users.deleteUser(db, app.clock, request.client, request.params.UsersID);
    app.credentials.forgetAgent(request.params.UsersID);
    return { status: 200 };
  });
};

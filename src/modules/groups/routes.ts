// ACD groups [jtel reads, our provisioning] and memberships of users in them [ours].
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'kysely';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import { GroupRecord, MembershipRecord } from './records.ts';
import { GroupCreateBody, GroupUpdateBody, MembershipBody, TEXT_PATTERN } from './schemas.ts';
import * as groups from './service.ts';

const tags = ['ACD groups'];


export const groupRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  const Group = GroupRecord.schema;
  const Membership = MembershipRecord.schema;

  app.get('/acd/groups', {
    schema: {
      tags, operationId: 'listAcdGroups', summary: 'All ACD groups of the client (default orderBy Name)',
      params: ClientScopedParams(),
      querystring: listQuerySchema(GroupRecord),
      response: { 200: ListEnvelope(Group), ...commonErrors },
    },
  }, async (request, reply) => {
    return sendClientList(reply, db, GroupRecord, request.query, request.client);
  });

  app.get('/acd/groups/group', {
    schema: {
      tags, operationId: 'findAcdGroupsByName', summary: 'ACD groups whose Name contains `name` (case-insensitive); none: 404',
      params: ClientScopedParams(),
      querystring: Type.Object({ name: Type.String({ minLength: 1, maxLength: 256, pattern: TEXT_PATTERN }) }, { additionalProperties: false }),
      response: { 200: SingleEnvelope(Group), ...commonErrors },
    },
  }, async (request, reply) => sendRecords(reply, await groups.findGroupsByName(db, request.client, request.query.name)));

  app.get('/acd/groups/group/:AcdGroupsID', {
    schema: {
      tags, operationId: 'getAcdGroup', summary: 'One ACD group by ID',
      params: ClientScopedParams('AcdGroupsID'),
      response: { 200: SingleEnvelope(Group), ...commonErrors },
    },
  }, async (request, reply) => sendRecords(reply, await groups.getGroup(db, request.client, request.params.AcdGroupsID)));

  app.post('/acd/groups/create', {
    schema: {
      tags, operationId: 'createAcdGroup', summary: 'Create an ACD group [ours]; same Name in the client: 409',
      params: ClientScopedParams(),
      body: GroupCreateBody,
      response: { 200: SingleEnvelope(Group), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => sendRecords(reply, await groups.createGroup(db, app.clock, request.client, request.body)));

  app.patch('/acd/groups/group/:AcdGroupsID', {
    schema: {
      tags, operationId: 'updateAcdGroup', summary: 'Change fields of an ACD group [ours]; null clears a nullable field',
      params: ClientScopedParams('AcdGroupsID'),
      body: GroupUpdateBody,
      response: { 200: SingleEnvelope(Group), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => sendRecords(reply, await groups.updateGroup(db, app.clock, request.client, request.params.AcdGroupsID, request.body)));

  app.delete('/acd/groups/group/:AcdGroupsID', {
    schema: {
      tags, operationId: 'deleteAcdGroup', summary: 'Delete an ACD group and its memberships [ours]; 409 while open events or configuration groups rely on it',
      params: ClientScopedParams('AcdGroupsID'),
      response: { 200: StatusOnly, ...commonErrors, ...conflict },
    },
  }, async (request) => {
    await groups.deleteGroup(db, request.client, request.params.AcdGroupsID);
    return { status: 200 };
  });

  app.get('/acd/groups/group/:AcdGroupsID/members', {
    schema: {
      tags, operationId: 'listAcdGroupMembers', summary: 'The members of an ACD group with their skills [ours] (default orderBy UsersID)',
      params: ClientScopedParams('AcdGroupsID'),
      querystring: listQuerySchema(MembershipRecord),
      response: { 200: ListEnvelope(Membership), ...commonErrors },
    },
  }, async (request, reply) => {
    const { client } = request;
    const groupId = request.params.AcdGroupsID;
    await groups.getGroup(db, client, groupId);
    return sendClientList(reply, db, MembershipRecord, request.query, client, sql`m.group_id = ${groupId}`);
  });

  app.put('/acd/groups/group/:AcdGroupsID/members/:UsersID', {
    schema: {
      tags, operationId: 'setAcdGroupMember', summary: 'Make a user a member of an ACD group, or replace their skills there [ours]',
      params: ClientScopedParams('AcdGroupsID', 'UsersID'),
      body: MembershipBody,
      response: { 200: SingleEnvelope(Membership), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const { AcdGroupsID, UsersID } = request.params;
    return sendRecords(reply, await groups.putMembership(db, app.clock, request.client, AcdGroupsID, UsersID, request.body.Skills));
  });

  app.delete('/acd/groups/group/:AcdGroupsID/members/:UsersID', {
    schema: {
      tags, operationId: 'removeAcdGroupMember', summary: 'End a membership [ours]; not a member: 404',
      params: ClientScopedParams('AcdGroupsID', 'UsersID'),
      response: { 200: StatusOnly, ...commonErrors },
    },
  }, async (request) => {
    await groups.deleteMembership(db, app.clock, request.client, request.params.AcdGroupsID, request.params.UsersID);
    return { status: 200 };
  });
};

// Dialler campaigns (spec §5.1) and their provisioning (§6).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ClientScopedParams, commonErrors, conflict, ListEnvelope, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { listQuerySchema, sendClientList, sendRecords } from '../../http/list.ts';
import type { LanguageId } from '../../domain/dialler.ts';
import { CampaignRecord, ResultCodeRecords } from './records.ts';
import { CloneCampaignBody, CreateCampaignBody, LanguageQuery, NameQuery, UpdateCampaignBody } from './schemas.ts';
import {
  campaignById, campaignChanged, campaignsByName, cloneCampaign, createCampaign, deleteCampaignById, deleteCampaignByName, resultCodesOf,
} from './service.ts';
import { updateCampaign } from './update.ts';

const tags = ['Dialler campaigns'];
const Campaign = CampaignRecord.schema;

export const campaignRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.get('/dialler/campaigns', {
    schema: {
      tags,
      operationId: 'listDiallerCampaigns',
      summary: 'All dialler campaigns of the client',
      querystring: listQuerySchema(CampaignRecord),
      response: { 200: ListEnvelope(Campaign), ...commonErrors },
    },
  }, async (request, reply) => {
    return sendClientList(reply, db, CampaignRecord, request.query, request.client);
  });

  const byIdSchema = (operationId: string, summary: string) => ({
    tags,
    operationId,
    summary,
    params: ClientScopedParams('DiallerCampaignsID'),
    response: { 200: SingleEnvelope(Campaign), ...commonErrors },
  });
  for (const [path, operationId, summary] of [
    ['/dialler/campaigns/:DiallerCampaignsID', 'getDiallerCampaign', 'One dialler campaign by ID'],
    ['/dialler/campaigns/campaign/:DiallerCampaignsID', 'getDiallerCampaignAlias', 'One dialler campaign by ID (same as /dialler/campaigns/{id})'],
  ] as const) {
    app.get(path, { schema: byIdSchema(operationId, summary) }, async (request, reply) => {
      const texts = await campaignById(db, request.client, request.params.DiallerCampaignsID);
      return sendRecords(reply, texts);
    });
  }

  app.get('/dialler/campaigns/campaign', {
    schema: {
      tags,
      operationId: 'findDiallerCampaignsByName',
      summary: 'Dialler campaigns whose Name contains `name` (case-insensitive)',
      querystring: NameQuery,
      response: { 200: SingleEnvelope(Campaign), ...commonErrors },
    },
  }, async (request, reply) => {
    const texts = await campaignsByName(db, request.client, request.query.name);
    return sendRecords(reply, texts);
  });

  app.get('/dialler/campaigns/campaign/:DiallerCampaignsID/resultCodes', {
    schema: {
      tags,
      operationId: 'listDiallerCampaignResultCodes',
      summary: "A campaign's result codes, with texts in the requested language",
      params: ClientScopedParams('DiallerCampaignsID'),
      querystring: LanguageQuery,
      response: { 200: SingleEnvelope(ResultCodeRecords[1].schema), ...commonErrors },
    },
  }, async (request, reply) => {
    const language = (request.query.languagesID ?? 1) as LanguageId;
    const texts = await resultCodesOf(db, request.client, request.params.DiallerCampaignsID, language);
    return sendRecords(reply, texts);
  });

  app.post('/dialler/campaigns/create', {
    schema: {
      tags: ['Provisioning: dialler campaigns'],
      operationId: 'createDiallerCampaign',
      summary: 'Create a dialler campaign with its result codes, time windows, restricted periods and dialler settings',
      description: 'A new campaign is paused (bRunning false) unless the body starts it.',
      body: CreateCampaignBody,
      response: { 200: SingleEnvelope(Campaign), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const texts = await createCampaign(db, request.client, app.clock.now(), request.body);
    return sendRecords(reply, texts);
  });

  app.patch('/dialler/campaigns/campaign/:DiallerCampaignsID', {
    schema: {
      tags: ['Provisioning: dialler campaigns'],
      operationId: 'updateDiallerCampaign',
      summary: "Change a campaign's settings [ours]; same Name as another campaign of the client: 409",
      description: 'Any create field except ResultCodes. Fields left out keep their value, null clears a nullable field, '
        + 'TimeWindows and RestrictedPeriods replace the whole list, RetryDelays merges per cause. A new TimeZone moves '
        + 'the contacts that take their zone from the campaign.',
      params: ClientScopedParams('DiallerCampaignsID'),
      body: UpdateCampaignBody,
      response: { 200: SingleEnvelope(Campaign), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const id = request.params.DiallerCampaignsID;
    const texts = await updateCampaign(db, request.client, app.clock.now(), id, request.body);
    await campaignChanged(app, request.client.id, id);
    return sendRecords(reply, texts);
  });

  app.post('/dialler/campaigns/clone', {
    schema: {
      tags,
      operationId: 'cloneDiallerCampaign',
      summary: 'Copy a campaign with its result codes, texts, time windows, restricted periods and settings (not its contacts)',
      description: 'The copy is a template: it starts paused (bRunning false) whatever the source does.',
      body: CloneCampaignBody,
      response: { 200: SingleEnvelope(Campaign), ...commonErrors, ...conflict },
    },
  }, async (request, reply) => {
    const texts = await cloneCampaign(db, request.client, app.clock.now(), request.body);
    return sendRecords(reply, texts);
  });

  app.delete('/dialler/campaigns/campaign/:DiallerCampaignsID', {
    schema: {
      tags,
      operationId: 'deleteDiallerCampaign',
      summary: 'Delete a campaign with its result codes, time windows and contacts',
      params: ClientScopedParams('DiallerCampaignsID'),
      response: { 200: StatusOnly, ...commonErrors },
    },
  }, async (request) => {
    await deleteCampaignById(db, request.client, request.params.DiallerCampaignsID);
    return { status: 200 };
  });

  app.delete('/dialler/campaigns/campaign', {
    schema: {
      tags,
      operationId: 'deleteDiallerCampaignByName',
      summary: 'Delete the campaign named exactly `name`, with all its related data',
      querystring: NameQuery,
      response: { 200: StatusOnly, ...commonErrors, ...conflict },
    },
  }, async (request) => {
    await deleteCampaignByName(db, request.client, request.query.name);
    return { status: 200 };
  });
};

// The dialler's working endpoints [ours, spec §8]: agents in campaigns (agent token, under
// /agents/me/dialler), the attempt's start, skip, release and result, manual reservations, and the
// external dialler's leases (client token).
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AgentTokenRequired, InvalidField } from '../../errors.ts';
import { ClientScopedParams, commonErrors, SingleEnvelope, StatusOnly } from '../../http/schema-types.ts';
import { sendRecords } from '../../http/list.ts';
import { localTimestamp } from '../../domain/dialler-calendar.ts';
import { parseLocalTimestamp, type LanguageId } from '../../domain/dialler.ts';
import type { ClientContext } from '../../http/auth.ts';
import { giveBack, postResult, startAttempt, type DiallerActor } from '../../dialler/actions.ts';
import type { HandedOut } from '../../dialler/hand-out.ts';
import {
  CallableQuery, ClaimBody, HeldContactSchema, LeaseBody, LeaseCount, LeaseParams, LeaseSchema, MyDiallerQuery, MyDiallerSchema, ResultAnswer,
  ResultBody, StartBody, type ResultInputBody,
} from './schemas.ts';
import * as dialler from './service.ts';
import { myDialler } from './my-dialler.ts';

const tags = ['Dialler'];
const errors = { ...commonErrors, 403: Type.Ref('ErrorBody'), 409: Type.Ref('ErrorBody') };

function agentOf(request: FastifyRequest): number {
  if (request.actor.kind !== 'agent') throw new AgentTokenRequired();
  return request.actor.userId;
}

const one = <T>(record: T) => ({ records: [record], count: 1, status: 200 });

function handedOut(h: HandedOut, timeZone: string) {
  return {
    DiallerContactsID: h.contactId, DiallerCampaignsID: h.campaignId, AttemptID: h.attemptId, HoldKind: h.holdKind,
    PhoneIndex: h.phoneIndex + 1, PhoneNumber: h.phoneNumber, bStarted: h.started,
    dtPreviewEnds: h.holdKind === 'Preview' && h.holdUntil !== null ? localTimestamp(timeZone, h.holdUntil) : null,
  };
}

function resultInput(body: ResultInputBody, client: ClientContext) {
  let appointmentAt: number | null = null;
  if (body.dtAppointment != null) {
    const parsed = parseLocalTimestamp(body.dtAppointment, client.timeZone);
    if (!parsed.ok) throw new InvalidField('dtAppointment', parsed.reason);
    appointmentAt = parsed.value.getTime();
  }
  return {
    attemptId: body.AttemptID, resultCodeId: body.ResultCodesID, exportKey: body.ResultCodesExportKey, cause: body.SystemCause,
    appointmentAt, comment: body.Comment ?? null,
  };
}

export const diallerRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;
  // Answer schemas inline: a plugin that adds shared schemas gets Fastify's default validator
  // instead of the app's strict one (src/http/validation.ts).
  const myState = { 200: SingleEnvelope(MyDiallerSchema), ...commonErrors, 403: Type.Ref('ErrorBody') };
  const myCampaignLogin = { ...myState, 409: Type.Ref('ErrorBody') };
  // The same answer after a campaign login or logout, in the language the query asks for.
  const answerMine = async (request: FastifyRequest, reply: FastifyReply) => {
    const language = ((request.query as { LanguagesID?: number } | undefined)?.LanguagesID ?? 1) as LanguageId;
    return sendRecords(reply, [await myDialler(db, request.client, agentOf(request), language)]);
  };

  app.get('/agents/me/dialler', {
    schema: {
      tags, operationId: 'getMyDialler',
      summary: 'My dialler work: the campaigns I may log in to and those I am logged in to; the contacts in my hands, each with its contact record, history and its campaign\'s result codes (texts in LanguagesID)',
      params: ClientScopedParams(), querystring: MyDiallerQuery, response: myState,
    },
  }, answerMine);

  app.post('/agents/me/dialler/campaigns/:DiallerCampaignsID/login', {
    schema: {
      tags, operationId: 'loginToDiallerCampaign', summary: 'Log in to a campaign (I must be a member of its ACD group). Preview/Progressive: the engine then hands me contacts whenever I hold no ACD event',
      params: ClientScopedParams('DiallerCampaignsID'), querystring: MyDiallerQuery, response: myCampaignLogin,
    },
  }, async (request, reply) => {
    await dialler.loginToCampaign(db, request.client.id, agentOf(request), request.params.DiallerCampaignsID, app.clock.now());
    app.dialler.serve(agentOf(request));
    return answerMine(request, reply);
  });

  app.post('/agents/me/dialler/campaigns/:DiallerCampaignsID/logout', {
    schema: {
      tags, operationId: 'logoutFromDiallerCampaign', summary: 'Log out of a campaign: no more contacts from it; those I hold but have not dialled go back untouched, an attempt under way stays mine until its result',
      params: ClientScopedParams('DiallerCampaignsID'), querystring: MyDiallerQuery, response: myCampaignLogin,
    },
  }, async (request, reply) => {
    await dialler.logoutFromCampaign(db, request.client.id, agentOf(request), request.params.DiallerCampaignsID, app.clock.now());
    return answerMine(request, reply);
  });

  app.get('/agents/me/dialler/campaigns/:DiallerCampaignsID/callable', {
    schema: {
      tags, operationId: 'listCallableDiallerContacts', summary: 'Manual mode: contacts I may call now, in jtel order (IDs); reserve one to call it',
      params: ClientScopedParams('DiallerCampaignsID'), querystring: CallableQuery,
      response: { 200: SingleEnvelope(Type.Object({ DiallerContactsIDs: Type.Array(Type.Integer()) })), ...errors },
    },
  }, async (request) => one({
    DiallerContactsIDs: await dialler.callableContacts(db, request.client.id, agentOf(request), request.params.DiallerCampaignsID,
      request.query.limit ?? 50, app.clock.now()),
  }));

  app.post('/agents/me/dialler/contacts/:DiallerContactsID/reserve', {
    schema: {
      tags, operationId: 'reserveDiallerContact', summary: 'Manual mode: take a callable contact into my hands', params: ClientScopedParams('DiallerContactsID'),
      response: { 200: SingleEnvelope(HeldContactSchema), ...errors },
    },
  }, async (request) => one(handedOut(await dialler.reserveContact(db, request.client.id, agentOf(request), request.params.DiallerContactsID, app.clock.now()), request.client.timeZone)));

  const agent = (request: FastifyRequest): DiallerActor => ({ kind: 'agent', userId: agentOf(request) });

  app.post('/agents/me/dialler/contacts/:DiallerContactsID/start', {
    schema: {
      tags, operationId: 'startDiallerAttempt', summary: 'Start the attempt (the call) on a number: the answer names the number to dial',
      params: ClientScopedParams('DiallerContactsID'), body: StartBody,
      response: { 200: SingleEnvelope(Type.Object({ AttemptID: Type.String(), PhoneIndex: Type.Integer(), PhoneNumber: Type.String() })), ...errors },
    },
  }, async (request) => {
    const index = request.body?.PhoneIndex;
    const started = await startAttempt(db, request.client.id, agent(request), request.params.DiallerContactsID, index === undefined ? undefined : index - 1, app.clock.now());
    return one({ AttemptID: started.attemptId, PhoneIndex: started.phoneIndex + 1, PhoneNumber: started.phoneNumber });
  });

  for (const [path, how, operationId, summary] of [
    ['skip', 'Skipped', 'skipDiallerContact', 'Preview: pass on this contact before dialling; it returns to the queue after the campaign\'s retry delay for Other'],
    ['release', 'Released', 'releaseDiallerContact', 'Give the contact back untouched before dialling (a manual reservation, a preview)'],
  ] as const) {
    app.post(`/agents/me/dialler/contacts/:DiallerContactsID/${path}`, {
      schema: { tags, operationId, summary, params: ClientScopedParams('DiallerContactsID'), response: { 200: StatusOnly, ...errors } },
    }, async (request) => {
      await giveBack(db, request.client.id, agent(request), request.params.DiallerContactsID, how, app.clock.now());
      app.dialler.serve(agentOf(request));
      return { status: 200 };
    });
  }

  const resultSchema = (operationId: string, who: string) => ({
    tags, operationId, summary: `The attempt's result (${who}): a result code (by ID or ExportKey), or a SystemCause when there was no conversation. The same result for the same AttemptID again changes nothing`,
    params: ClientScopedParams('DiallerContactsID'), body: ResultBody, response: { 200: SingleEnvelope(ResultAnswer), ...errors },
  });

  app.post('/agents/me/dialler/contacts/:DiallerContactsID/result', { schema: resultSchema('postMyDiallerResult', 'agent') }, async (request) => {
    const { outcome, next, headOf } = await postResult(db, request.client.id, agent(request), request.params.DiallerContactsID, resultInput(request.body, request.client), app.clock.now());
    // Without a next contact handed out with the result, the engine serves the agent now.
    if (outcome === 'applied' && next === null) app.dialler.serve(agentOf(request));
    if (headOf !== null) app.dialler.keepHead(headOf);
    return one({ DiallerContactsID: request.params.DiallerContactsID, bRepeated: outcome === 'repeated', Next: next && handedOut(next, request.client.timeZone) });
  });

  app.post('/dialler/contacts/:DiallerContactsID/result', { schema: resultSchema('postDiallerResult', 'external dialler, client token') }, async (request) => {
    const { outcome } = await postResult(db, request.client.id, { kind: 'client' }, request.params.DiallerContactsID, resultInput(request.body, request.client), app.clock.now());
    return one({ DiallerContactsID: request.params.DiallerContactsID, bRepeated: outcome === 'repeated', Next: null });
  });

  app.post('/dialler/campaigns/campaign/:DiallerCampaignsID/leases', {
    schema: {
      tags, operationId: 'leaseDiallerContacts', summary: 'External dialler: claim up to Count callable contacts under a lease (External campaigns). Report each attempt with …/dialler/contacts/{id}/result; a lease that runs out returns its contacts untouched',
      params: ClientScopedParams('DiallerCampaignsID'), body: ClaimBody, response: { 200: SingleEnvelope(LeaseSchema), ...errors },
    },
  }, async (request) => {
    const lease = await dialler.claimContacts(db, request.client.id, request.params.DiallerCampaignsID, request.body.Count, request.body.LeaseSeconds, app.clock.now());
    return one({
      LeaseID: lease.leaseId, dtExpires: localTimestamp(request.client.timeZone, lease.until),
      Contacts: lease.contacts.map((c) => handedOut(c, request.client.timeZone)),
    });
  });

  app.post('/dialler/leases/:LeaseID/renew', {
    schema: { tags, operationId: 'renewDiallerLease', summary: 'External dialler: extend a lease to LeaseSeconds from now', params: LeaseParams, body: LeaseBody, response: { 200: SingleEnvelope(LeaseCount), ...errors } },
  }, async (request) => one({
    LeaseID: request.params.LeaseID,
    nContacts: await dialler.renew(db, request.client.id, request.params.LeaseID, request.body.LeaseSeconds, app.clock.now()),
  }));

  app.post('/dialler/leases/:LeaseID/release', {
    schema: { tags, operationId: 'releaseDiallerLease', summary: 'External dialler: give back every contact of the lease that has no result yet, untouched', params: LeaseParams, response: { 200: SingleEnvelope(LeaseCount), ...errors } },
  }, async (request) => {
    const n = await dialler.release(db, request.client.id, request.params.LeaseID, app.clock.now());
    return one({ LeaseID: request.params.LeaseID, nContacts: n });
  });
};

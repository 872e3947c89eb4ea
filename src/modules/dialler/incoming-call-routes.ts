// jtel's "close contacts on incoming calls" (spec §8.1): the telephony system, or the integration
// in front of it, reports an incoming call's caller ID.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, SingleEnvelope } from '../../http/schema-types.ts';
import { InvalidField } from '../../errors.ts';
import { normalizePhoneNumber } from '../../domain/dialler.ts';
import { closeOnIncomingCall } from '../../dialler/incoming-call.ts';

const tags = ['Dialler engine'];

const IncomingCallBody = Type.Object(
  { CallerID: Type.String({ minLength: 1, maxLength: 64, description: 'the caller\'s number as the telephony delivers it (+49…, 0049…, 030…)' }) },
  { additionalProperties: false },
);

const IncomingCallAnswer = Type.Object(
  { ClosedContactIDs: Type.Array(Type.Integer(), { description: 'the contacts this call closed, by ID' }) },
  { additionalProperties: false },
);

export const incomingCallRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.post('/dialler/incomingCall', {
    schema: {
      tags,
      operationId: 'reportIncomingCall',
      summary: 'An incoming call: closes every waiting contact with a matching number in the campaigns with '
        + 'bCloseContactsOnIncomingCallsMatchCallerID and an IncomingCallResultCodesID (+49… = 0049… = 0…; see the docs)',
      params: ClientScopedParams(),
      body: IncomingCallBody,
      response: { 200: SingleEnvelope(IncomingCallAnswer), ...commonErrors },
    },
  }, async (request) => {
    const normalized = normalizePhoneNumber(request.body.CallerID);
    if (!normalized.ok) throw new InvalidField('CallerID', normalized.reason);
    if (normalized.value === null) throw new InvalidField('CallerID', 'must not be blank (a withheld number matches no contact)');
    const closed = await closeOnIncomingCall(db, request.client.id, normalized.value, app.clock.now());
    return { records: [{ ClosedContactIDs: closed }], count: 1, status: 200 };
  });
};

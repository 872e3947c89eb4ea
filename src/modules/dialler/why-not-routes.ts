// Why not dialled (spec §8.2) [ours]: per contact, and per campaign as counts.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ClientScopedParams, commonErrors, NullableString, SingleEnvelope, TIMESTAMP_PATTERN } from '../../http/schema-types.ts';
import { WHY_NOT_REASONS } from '../../domain/dialler-schedule.ts';
import { campaignWhyNot, CONTACT_STATES, contactWhyNot } from './why-not.ts';

const tags = ['Dialler engine'];

const Reason = Type.Unsafe<string | null>({ type: ['string', 'null'], enum: [...WHY_NOT_REASONS, null] });

const ContactWhyNotSchema = Type.Object(
  {
    DiallerContactsID: Type.Integer(),
    bCallable: Type.Boolean({ description: 'it could be handed out now (to UsersID, when given)' }),
    Reason: { ...Reason, description: 'why not; null when callable' },
    dtCallableFrom: NullableString({ pattern: TIMESTAMP_PATTERN, description: 'when it becomes callable (now, when callable), local time of the CONTACT (TimeZone); null: never, or not foreseeable' }),
    TimeZone: Type.String({ description: 'the contact\'s zone, in which its calling times apply' }),
    dtCallableFromClient: NullableString({ pattern: TIMESTAMP_PATTERN, description: 'the same moment in the client\'s time zone' }),
    DoNotCall: Type.Array(Type.String(), { description: 'its numbers the do-not-call list blocks now' }),
  },
  { additionalProperties: false },
);

const counts = (names: readonly string[]) => Type.Object(Object.fromEntries(names.map((n) => [n, Type.Integer()])), { additionalProperties: false });

const CampaignWhyNotSchema = Type.Object(
  {
    DiallerCampaignsID: Type.Integer(),
    Total: Type.Integer({ description: 'contacts of the campaign' }),
    ByState: counts(CONTACT_STATES),
    ByReason: { ...counts(['Callable', ...WHY_NOT_REASONS]), description: 'contacts per reason; the do-not-call list is not counted here (it is checked at hand-out)' },
  },
  { additionalProperties: false },
);

export const whyNotRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const db = app.store.db;

  app.get('/dialler/contacts/:DiallerContactsID/whyNot', {
    schema: {
      tags,
      operationId: 'whyNotDiallerContact',
      summary: 'Whether the contact is callable now and, if not, why and from when; with UsersID, for that agent',
      params: ClientScopedParams('DiallerContactsID'),
      querystring: Type.Object({ UsersID: Type.Optional(Type.Integer({ minimum: 1, maximum: 2147483647 })) }, { additionalProperties: false }),
      response: { 200: SingleEnvelope(ContactWhyNotSchema), ...commonErrors },
    },
  }, async (request) => {
    const record = await contactWhyNot(db, request.client, request.params.DiallerContactsID, request.query.UsersID, app.clock.now());
    return { records: [record], count: 1, status: 200 };
  });

  app.get('/dialler/campaigns/campaign/:DiallerCampaignsID/whyNot', {
    schema: {
      tags,
      operationId: 'whyNotDiallerCampaign',
      summary: 'The campaign\'s contacts counted per state and per reason they are not callable now',
      params: ClientScopedParams('DiallerCampaignsID'),
      response: { 200: SingleEnvelope(CampaignWhyNotSchema), ...commonErrors },
    },
  }, async (request) => {
    const record = await campaignWhyNot(db, request.client.id, request.params.DiallerCampaignsID, app.clock.now());
    return { records: [record], count: 1, status: 200 };
  });
};

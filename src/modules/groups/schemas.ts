// Request bodies of ACD group provisioning. Create and update share the field rules; update makes
// every field optional and takes null to clear a nullable one.
import { Type, type TSchema } from 'typebox';
import { NullableInt, NullableString } from '../../http/schema-types.ts';
import { GROUP_TYPES, MAX_SKILLS_PER_MEMBERSHIP } from '../../domain/acd-groups.ts';
import { skillMap } from './records.ts';
import { serviceRules } from '../../http/service-rules.ts';

const INT32 = { minimum: -2147483648, maximum: 2147483647 };
const ID = { minimum: 1, maximum: 2147483647 };

/** A name as people type it: not blank, and no stray spaces that would make look-alike twins. */
export const NAME_PATTERN = '^[^\\s\\u0000]([^\\u0000]*[^\\s\\u0000])?$';
/** PostgreSQL text cannot hold NUL; refusing it here keeps that a 400 instead of a 500. */
export const TEXT_PATTERN = '^[^\\u0000]*$';

const groupFields = {
  Name: Type.String({ minLength: 1, maxLength: 256, pattern: NAME_PATTERN, description: 'Unique in the client' }),
  GroupType: Type.Enum([...GROUP_TYPES], { description: 'Standalone (default), Configuration or Agent' }),
  PrimaryAgentGroupsID: NullableInt({ ...ID, description: 'Configuration groups only (required there): an Agent group of this client' }),
  ForeignSystemID: NullableString({ maxLength: 256, pattern: TEXT_PATTERN }),
  DistributionAlgorithmID: Type.Integer({ minimum: 1, maximum: 3, description: '1 longest idle (default), 2 round robin, 3 highest skill' }),
  ServiceLevelSeconds: Type.Integer({ minimum: 0, maximum: 86400, description: 'default 20' }),
  QueueMusicID4Sec: NullableInt(INT32),
  SupervisorAggregationSkill5ID: NullableInt(INT32),
  QueueOffhookAnnouncementID: NullableInt(INT32),
  bPositionAnnouncement3: Type.Boolean(),
  TarifAnnouncementWavesID: NullableInt(INT32),
  bCallRedirectionAfterNumberAnnouncement: Type.Boolean(),
  bAvoidDuplicateEvents: Type.Boolean({ description: 'jtel duplicate rule for ACD event creation; default false' }),
  OfferTimeoutSeconds: Type.Integer({ minimum: 1, maximum: 86400, description: 'default 30' }),
};

function optionalAll<T extends Record<string, TSchema>>(fields: T) {
  return Object.fromEntries(Object.entries(fields).map(([k, s]) => [k, Type.Optional(s)])) as { [K in keyof T]: ReturnType<typeof Type.Optional<T[K]>> };
}

const { Name, ...rest } = groupFields;

// A Configuration group names its primary Agent group; no other type has one (src/domain/acd-groups.ts).
// GroupType defaults to Standalone on create; a change that leaves it out keeps the group's type.
export const GroupCreateBody = Type.Object({ Name, ...optionalAll(rest) }, {
  additionalProperties: false,
  ...serviceRules({
    anyOf: [
      { required: ['GroupType', 'PrimaryAgentGroupsID'], properties: { GroupType: { const: 'Configuration' }, PrimaryAgentGroupsID: { type: 'integer' } } },
      { properties: { GroupType: { enum: ['Standalone', 'Agent'] }, PrimaryAgentGroupsID: { type: 'null' } } },
    ],
  }),
});
export const GroupUpdateBody = Type.Object(optionalAll(groupFields), {
  additionalProperties: false,
  minProperties: 1,
  ...serviceRules({
    anyOf: [{ properties: { GroupType: { const: 'Configuration' } } }, { properties: { PrimaryAgentGroupsID: { type: 'null' } } }],
  }),
});

export const MembershipBody = Type.Object(
  { Skills: Type.Optional(skillMap({ maxProperties: MAX_SKILLS_PER_MEMBERSHIP })) },
  { additionalProperties: false },
);

export interface GroupInput {
  Name?: string;
  GroupType?: (typeof GROUP_TYPES)[number];
  PrimaryAgentGroupsID?: number | null;
  ForeignSystemID?: string | null;
  DistributionAlgorithmID?: number;
  ServiceLevelSeconds?: number;
  QueueMusicID4Sec?: number | null;
  SupervisorAggregationSkill5ID?: number | null;
  QueueOffhookAnnouncementID?: number | null;
  bPositionAnnouncement3?: boolean;
  TarifAnnouncementWavesID?: number | null;
  bCallRedirectionAfterNumberAnnouncement?: boolean;
  bAvoidDuplicateEvents?: boolean;
  OfferTimeoutSeconds?: number;
}

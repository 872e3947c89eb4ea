// The jtel AcdGroup record (jtel names, in jtel's order, then ours) and our membership record.
import { Type } from 'typebox';
import { compactNumberMap, defineRecord, field } from '../../http/records.ts';
import { ID_KEY_PATTERN, serviceRules } from '../../http/service-rules.ts';
import { SKILL_MAX, SKILL_MIN } from '../../domain/acd-groups.ts';

export const GroupRecord = defineRecord(
  'AcdGroup',
  {
    ID: field.int('g.id'),
    Name: field.text('g.name'),
    ForeignSystemID: field.text('g.foreign_system_id', { nullable: true }),
    DistributionAlgorithmID: field.int('g.distribution_algorithm_id', { description: '1 longest idle, 2 round robin, 3 highest skill' }),
    ServiceLevelSeconds: field.int('g.service_level_seconds'),
    QueueMusicID4Sec: field.int('g.queue_music_id', { nullable: true }),
    SupervisorAggregationSkill5ID: field.int('g.supervisor_aggregation_skill_id', { nullable: true }),
    QueueOffhookAnnouncementID: field.int('g.queue_offhook_announcement_id', { nullable: true }),
    bPositionAnnouncement3: field.bool('g.b_position_announcement'),
    TarifAnnouncementWavesID: field.int('g.tarif_announcement_waves_id', { nullable: true }),
    bCallRedirectionAfterNumberAnnouncement: field.bool('g.b_call_redirection_after_number_announcement'),
    GroupType: field.text('g.group_type', { description: 'Standalone, Configuration or Agent' }),
    PrimaryAgentGroupsID: field.int('g.primary_agent_group_id', { nullable: true, description: 'Configuration groups: the Agent group whose members work its events' }),
    bAvoidDuplicateEvents: field.bool('g.b_avoid_duplicate_events'),
    OfferTimeoutSeconds: field.int('g.offer_timeout_seconds', { description: 'How long an offered event waits for the agent before it returns to the queue' }),
    dtCreated: field.timestamp('g.created_at'),
    dtLastModified: field.timestamp('g.updated_at'),
  },
  { from: 'acd_groups g', clientColumn: 'g.client_id', idColumn: 'g.id', defaultOrderBy: 'Name' },
);

export const skillMap = (opts: { maxProperties?: number } = {}) =>
  Type.Record(
    Type.String({ description: 'SkillsID' }),
    Type.Integer({ minimum: SKILL_MIN, maximum: SKILL_MAX }),
    { description: `Skill values ${SKILL_MIN}..${SKILL_MAX} keyed by SkillsID, e.g. {"12": 80}`, ...serviceRules({ propertyNames: { pattern: ID_KEY_PATTERN } }), ...opts },
  );

export const MembershipRecord = defineRecord(
  'AcdGroupMember',
  {
    AcdGroupsID: field.int('m.group_id'),
    UsersID: field.int('m.user_id'),
    Skills: field.json(compactNumberMap('m.skills'), skillMap()),
    dtCreated: field.timestamp('m.created_at'),
  },
  // Scoped through the group: a membership belongs to the client of its group.
  { from: 'acd_group_members m JOIN acd_groups g ON g.id = m.group_id', clientColumn: 'g.client_id', idColumn: 'm.user_id', defaultOrderBy: 'UsersID' },
);

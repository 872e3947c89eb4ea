// Creating an ACD event the jtel way: checks that need no database first (so bad input never
// reaches it), then the groups and user the request names, then the insert — or, where the group
// avoids duplicates, the exactly-once merge into an open event with the same key.
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import type { ClientContext } from '../../http/auth.ts';
import { Conflict, UserNotFound } from '../../errors.ts';
import { resolveAppointment } from '../../domain/appointment.ts';
import { eventDataXml } from '../../domain/event-data.ts';
import {
  checkCrmUrl,
  checkTargetGroups,
  checkText,
  duplicateComment,
  duplicateKeyOf,
  isPhoneEvent,
  namedGroups,
  normaliseE164,
  queueGroupOf,
  requiredSkillsOf,
  settingsGroupOf,
  targetOf,
  type LimitedText,
  type SkillFields,
} from '../../domain/event-rules.ts';
import { EventStatus } from './enumerations.ts';
import { createUnlessOpenDuplicate, findTargetFacts, type NewEvent } from './repository.ts';
import { insertEventIfTargetValid, type TargetGuard } from './guarded-create.ts';
import { withResult } from './records.ts';

/** Who the history and comments name for changes made through the REST API. */
export const API_ACTOR = 'api';
export const DEFAULT_PRIORITY = 50;

export interface CreateEventInput extends SkillFields {
  AcdEventTypesID: number;
  AcdGroupsID?: number | null;
  AcdConfigurationGroupsID?: number | null;
  AcdAgentGroupsID?: number | null;
  UsersID?: number | null;
  Sender: string;
  Receiver?: string | null;
  Subject: string;
  Body?: string | null;
  CrmURL?: string | null;
  UserData?: string | null;
  Priority?: number | null;
  dtAppointmentDate?: string | null;
  dtAppointmentTime?: string | null;
}

/** The request's texts, checked and normalised (phone numbers without "+"). */
function checkedTexts(input: CreateEventInput) {
  const given: [LimitedText, string | null | undefined][] = [
    ['Sender', input.Sender], ['Receiver', input.Receiver], ['Subject', input.Subject],
    ['Body', input.Body], ['CrmURL', input.CrmURL], ['UserData', input.UserData],
  ];
  for (const [field, value] of given) if (value != null) checkText(field, value);
  const crmUrl = input.CrmURL ?? null;
  if (crmUrl !== null) checkCrmUrl(crmUrl);
  const phone = isPhoneEvent(input.AcdEventTypesID);
  const receiver = input.Receiver ?? null;
  return {
    sender: phone ? normaliseE164('Sender', input.Sender) : input.Sender,
    receiver: phone && receiver ? normaliseE164('Receiver', receiver) : receiver,
    subject: input.Subject,
    body: input.Body ?? null,
    crmUrl,
    userData: input.UserData ?? null,
  };
}

export async function createEvent(db: Kysely<Database>, client: ClientContext, input: CreateEventInput, now: number): Promise<string> {
  const target = targetOf(input);
  const texts = checkedTexts(input);
  const appointment = resolveAppointment({ date: input.dtAppointmentDate, time: input.dtAppointmentTime }, now, client.timeZone);
  const queueGroupId = queueGroupOf(target);
  const skills = requiredSkillsOf(input);
  const userId = input.UsersID ?? null;

  const named = namedGroups(target);
  const checkFacts = async () => {
    const facts = await findTargetFacts(db, client.id, named.map((g) => g.id), userId, queueGroupId);
    checkTargetGroups(target, (id) => facts.groups.get(id)?.type);
    if (userId !== null) {
      if (!facts.userExists) throw new UserNotFound(userId);
      if (!facts.isMember) throw new Conflict(`User ${userId} is not a member of ACD group ${queueGroupId}`);
    }
    return facts;
  };

  const at = new Date(now);
  const duplicateKey = duplicateKeyOf(input.AcdEventTypesID, target, texts.sender, texts.userData);
  const values: NewEvent = {
    client_id: client.id,
    type_id: input.AcdEventTypesID,
    // jtel answers a new event in Distribute (1): the distributor queues it once its appointment
    // (if any) is due.
    status_id: EventStatus.Distribute,
    group_id: target.form === 'standalone' ? target.groupId : null,
    configuration_group_id: target.form === 'pair' ? target.configurationGroupId : null,
    agent_group_id: target.form === 'pair' ? target.agentGroupId : null,
    queue_group_id: queueGroupId,
    user_id: userId,
    sender: texts.sender,
    receiver: texts.receiver,
    subject: texts.subject,
    body: texts.body,
    crm_url: texts.crmUrl,
    user_data: texts.userData,
    event_data: eventDataXml(texts),
    priority: input.Priority ?? DEFAULT_PRIORITY,
    appointment_at: appointment === null ? null : new Date(appointment),
    skills_id1: skills[0]!.id, skills_value1: skills[0]!.value,
    skills_id2: skills[1]!.id, skills_value2: skills[1]!.value,
    skills_id3: skills[2]!.id, skills_value3: skills[2]!.value,
    duplicate_key: duplicateKey,
    created_at: at,
    modified_at: at,
    last_modified_at: at,
  };

  // Optimistic path: one statement that inserts only if the target is valid and no duplicate
  // rule applies. Only when it refuses are the precise checks (and the duplicate rule) run; if
  // they find the target valid and no rule applying, it changed in between: the guarded
  // statement runs once more (it never inserts for a target that is not valid).
  const guard: TargetGuard = {
    clientId: client.id,
    groups: named.map(({ id, type }) => ({ id, type })),
    noDuplicateRuleOn: duplicateKey === null ? null : settingsGroupOf(target),
    member: userId === null ? null : { userId, groupId: queueGroupId },
  };
  for (let attempt = 0; attempt < 2; attempt++) {
    const inserted = await insertEventIfTargetValid(db, { values, guard, actor: API_ACTOR, timeZone: client.timeZone });
    if (inserted !== undefined) return withResult(inserted, 'CREATED');
    const facts = await checkFacts();
    if (duplicateKey !== null && facts.groups.get(settingsGroupOf(target))?.avoidDuplicates) {
      const comment = { author: API_ACTOR, text: duplicateComment(now, client.timeZone, texts.subject, texts.body) };
      const merged = await createUnlessOpenDuplicate(db, { ...values, client_id: client.id, duplicate_key: duplicateKey }, comment, client.timeZone);
      if (merged) return withResult(merged.json, merged.result);
      // A group or user went between the checks and the lock: answer as if it had been
      // missing all along (404 naming it).
      await checkFacts();
    }
  }
  throw new Conflict('A group or user of this event changed while it was being created; try again');
}

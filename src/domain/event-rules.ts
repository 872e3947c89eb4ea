// Rules of jtel's ACD event create that need no database: which group form the request uses,
// what the texts may hold, the phone number and URL checks, and the key under which a repeated
// request counts as a duplicate. The service gathers the facts and applies these verdicts.
import { GroupNotFound, InvalidField } from '../errors.ts';
import { localParts } from './time.ts';
import { XML_FORBIDDEN } from './event-data.ts';

// Event types of spec §2 these rules single out.
const VOICE_MAIL = 1;
const CALLBACK = 3;
const WORK_FLOW_CONNECTOR = 6;

/** Text limits in UTF-8 bytes (the units are bytes, so a limit is a storage bound). */
export const TEXT_LIMITS = {
  Sender: 256,
  Receiver: 256,
  Subject: 1024,
  Body: 1024 * 1024,
  CrmURL: 2048,
  UserData: 256,
} as const;
export type LimitedText = keyof typeof TEXT_LIMITS;

/** Texts that go into the EventData XML document as well as into their own column. */
const XML_TEXTS = new Set<LimitedText>(['Body', 'CrmURL', 'UserData']);

/**
 * A text must fit its limit and be storable: PostgreSQL text holds no NUL and UTF-8 has no
 * lone surrogates, and the XML parts must be representable in XML 1.0 at all.
 */
export function checkText(field: LimitedText, value: string): void {
  const limit = TEXT_LIMITS[field];
  if (Buffer.byteLength(value, 'utf8') > limit) throw new InvalidField(field, `must not be longer than ${limit} bytes (UTF-8)`);
  if (value.includes('\u0000')) throw new InvalidField(field, 'must not contain the NUL character');
  if (!value.isWellFormed()) throw new InvalidField(field, 'must not contain unpaired UTF-16 surrogates');
  if (XML_TEXTS.has(field)) {
    const bad = XML_FORBIDDEN.exec(value);
    if (bad) {
      const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      throw new InvalidField(field, `must not contain the control character U+${code} (not allowed in the XML event data)`);
    }
  }
}

// E.164 allows at most 15 digits; numbers shorter than 6 digits are not reachable
// international numbers. The country code never starts with 0 (that would be a dial prefix).
const E164 = /^\+?([1-9][0-9]{5,14})$/;

/** A phone number in E.164 digits, `+` accepted and dropped: `+49891234567` → `49891234567`. */
export function normaliseE164(field: 'Sender' | 'Receiver', value: string): string {
  const m = E164.exec(value);
  if (!m) {
    throw new InvalidField(field, 'must be a phone number in E.164 form: 6 to 15 digits starting with the country code, optionally after "+"');
  }
  return m[1];
}

/** Callback and voice-mail events carry phone numbers; other types keep their texts as given. */
export function isPhoneEvent(typeId: number): boolean {
  return typeId === VOICE_MAIL || typeId === CALLBACK;
}

/**
 * Empty, or an absolute http(s) URL. Agents open it from their desktop, so other schemes
 * (javascript:, data:, file:) are refused, as is anything the URL parser would have to repair.
 */
export function checkCrmUrl(value: string): void {
  if (value === '') return;
  const reason = 'must be empty or an absolute http or https URL, e.g. https://crm.example.com/case/4711';
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const wellFormed = /^https?:\/\/[^\s/?#]+/i.test(value) && !/[\s\u0000-\u001F\u007F]/.test(value) && URL.canParse(value);
  if (!wellFormed || !new URL(value).hostname) throw new InvalidField('CrmURL', reason);
}

export interface GroupFields {
  AcdGroupsID?: number | null;
  AcdConfigurationGroupsID?: number | null;
  AcdAgentGroupsID?: number | null;
}

export type EventTarget =
  | { form: 'standalone'; groupId: number }
  | { form: 'pair'; configurationGroupId: number; agentGroupId: number };

/** jtel: either AcdGroupsID, or AcdConfigurationGroupsID together with AcdAgentGroupsID. */
export function targetOf(fields: GroupFields): EventTarget {
  const group = fields.AcdGroupsID ?? null;
  const configuration = fields.AcdConfigurationGroupsID ?? null;
  const agent = fields.AcdAgentGroupsID ?? null;
  if (group !== null) {
    if (configuration !== null || agent !== null) {
      throw new InvalidField('AcdGroupsID', 'give either AcdGroupsID or AcdConfigurationGroupsID with AcdAgentGroupsID, not both');
    }
    return { form: 'standalone', groupId: group };
  }
  if (configuration === null && agent === null) {
    throw new InvalidField('AcdGroupsID', 'is required, or AcdConfigurationGroupsID together with AcdAgentGroupsID');
  }
  if (agent === null) throw new InvalidField('AcdAgentGroupsID', 'is required together with AcdConfigurationGroupsID');
  if (configuration === null) throw new InvalidField('AcdConfigurationGroupsID', 'is required together with AcdAgentGroupsID');
  return { form: 'pair', configurationGroupId: configuration, agentGroupId: agent };
}

/** The group whose queue holds the event: the standalone group, or the pair's agent group. */
export function queueGroupOf(target: EventTarget): number {
  return target.form === 'standalone' ? target.groupId : target.agentGroupId;
}

/**
 * The group whose settings (such as bAvoidDuplicateEvents) apply: the standalone group, or the
 * pair's configuration group, which is where jtel keeps the call-flow settings.
 */
export function settingsGroupOf(target: EventTarget): number {
  return target.form === 'standalone' ? target.groupId : target.configurationGroupId;
}

export type GroupType = 'Standalone' | 'Configuration' | 'Agent';

export interface NamedGroup {
  field: 'AcdGroupsID' | 'AcdConfigurationGroupsID' | 'AcdAgentGroupsID';
  id: number;
  /** The kind of group the field asks for. */
  type: GroupType;
}

export function namedGroups(target: EventTarget): NamedGroup[] {
  return target.form === 'standalone'
    ? [{ field: 'AcdGroupsID', id: target.groupId, type: 'Standalone' }]
    : [
      { field: 'AcdConfigurationGroupsID', id: target.configurationGroupId, type: 'Configuration' },
      { field: 'AcdAgentGroupsID', id: target.agentGroupId, type: 'Agent' },
    ];
}

/** Every group the request names must exist in the client and be of the kind its field asks for. */
export function checkTargetGroups(target: EventTarget, typeOf: (id: number) => GroupType | undefined): void {
  const wanted = namedGroups(target);
  for (const { id } of wanted) if (typeOf(id) === undefined) throw new GroupNotFound(id);
  for (const { field, id, type } of wanted) {
    const actual = typeOf(id);
    if (actual !== type) throw new InvalidField(field, `ACD group ${id} is ${article(actual!)} ${actual} group, not ${article(type)} ${type} group`);
  }
}

const article = (word: string) => (/^[AEIOU]/.test(word) ? 'an' : 'a');

/**
 * "type|target|key" under which a repeated request is the same event: the Sender for every type
 * but tickets, whose key is the foreign ticket number in UserData. The target is the group, or
 * the configuration + agent group pair. No key, no duplicates: events without a sender (or
 * tickets without a number) are never merged, since "nobody" is not one customer.
 */
export function duplicateKeyOf(typeId: number, target: EventTarget, sender: string, userData: string | null): string | null {
  const key = typeId === WORK_FLOW_CONNECTOR ? userData ?? '' : sender;
  const where = target.form === 'standalone' ? `g${target.groupId}` : `c${target.configurationGroupId}a${target.agentGroupId}`;
  return key === '' ? null : `${typeId}|${where}|${key}`;
}

export interface SkillFields {
  SkillsID1?: number | null; SkillsValue1?: number | null;
  SkillsID2?: number | null; SkillsValue2?: number | null;
  SkillsID3?: number | null; SkillsValue3?: number | null;
}

/**
 * The skills an event requires (SkillsIDn, at least SkillsValuen; a missing value means any).
 * A value without its skill, or one skill named twice, is refused: either is a caller's mistake
 * that would otherwise silently route the event differently than meant.
 */
export function requiredSkillsOf(input: SkillFields): { id: number | null; value: number | null }[] {
  const seen = new Set<number>();
  return ([1, 2, 3] as const).map((n) => {
    const id = input[`SkillsID${n}`] ?? null;
    const value = input[`SkillsValue${n}`] ?? null;
    if (id === null && value !== null) throw new InvalidField(`SkillsValue${n}`, `needs SkillsID${n}`);
    if (id !== null && seen.has(id)) throw new InvalidField(`SkillsID${n}`, `skill ${id} is already required`);
    if (id !== null) seen.add(id);
    return { id, value: id === null ? null : value ?? 0 };
  });
}

/** `YYYY-MM-DDTHH:mm:ss.SSS` on the wall clock of `zone`, the way records show timestamps. */
export function formatLocal(ms: number, zone: string): string {
  const l = localParts(ms, zone);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(l.year, 4)}-${p(l.month)}-${p(l.day)}T${p(l.hour)}:${p(l.minute)}:${p(l.second)}.${p(((ms % 1000) + 1000) % 1000, 3)}`;
}

/** The comment a duplicate leaves on the event it was merged into. */
export function duplicateComment(at: number, zone: string, subject: string, body: string | null): string {
  return `Repeated create request at ${formatLocal(at, zone)}\nSubject: ${subject}\nBody: ${body ?? ''}`;
}

// Rules a service checks itself, with messages that name the field and say why (a combination of
// fields, a format parsed in src/domain): the OpenAPI document states them too, so a generated
// client or a property-based tester knows what the server will refuse. They travel in the route
// schemas under an `x-` keyword, which the validator ignores and src/http/openapi-document.ts
// lifts into the document's schema; test/openapi-strict.test.ts holds document and server to
// the same answers.

export const SERVICE_RULES = 'x-service-rules';

/** Spread into a schema's options: `Type.String({ ...serviceRules({ pattern }) })`. */
export const serviceRules = (keywords: Record<string, unknown>): Record<string, unknown> => ({ [SERVICE_RULES]: keywords });

const DATE = '(19|[2-9]\\d)\\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\\d|3[01])';

/** A calendar date from 1900 (src/modules/campaigns/settings.ts: isCalendarDate). */
export const DATE_PATTERN = `^${DATE}$`;

/** `YYYY-MM-DDTHH:mm[:ss[.SSS]]`, local time (src/domain/dialler.ts: parseLocalTimestamp). */
export const LOCAL_TIMESTAMP_PATTERN = `^${DATE}T([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d(\\.\\d{1,3})?)?$`;

/** A time window's start, 00:00..23:59, and end, 00:01..24:00 (src/domain/dialler.ts: checkTimeWindows). */
export const WINDOW_FROM_PATTERN = '^([01]\\d|2[0-3]):[0-5]\\d$';
// No lookahead for 00:00: generators of strings from patterns (fast-check, hypothesis) take few.
export const WINDOW_TO_PATTERN = '^(00:(0[1-9]|[1-5]\\d)|(0[1-9]|1\\d|2[0-3]):[0-5]\\d|24:00)$';

/** An id written as a JSON object key: 1..2147483647 in canonical decimal (src/domain/acd-groups.ts: normaliseSkills). */
export const ID_KEY_PATTERN = '^([1-9]\\d{0,8}|1\\d{9}|20\\d{8}|21[0-3]\\d{7}|214[0-6]\\d{6}|2147[0-3]\\d{5}|21474[0-7]\\d{4}'
  + '|214748[0-2]\\d{3}|2147483[0-5]\\d{2}|21474836[0-3]\\d|214748364[0-7])$';

const SEP = '[\\s\\-/().]';
/**
 * A phone number as src/domain/dialler.ts (normalizePhoneNumber) takes it: separators anywhere,
 * 3..20 digits, or + and an E.164 number; separators alone (or nothing) mean no number.
 */
export const PHONE_PATTERN = `^${SEP}*((\\d${SEP}*){3,20}|\\+${SEP}*[1-9]${SEP}*(\\d${SEP}*){2,14})?$`;

// Every error the API answers with is defined once here, with its status and message; the one
// error handler in src/http/error-handler.ts maps them (and Fastify's own) to `{status, error}`.

export interface ErrorDetail {
  field: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly headers: Record<string, string> | undefined;
  constructor(code: string, status: number, message: string, details?: ErrorDetail[], headers?: Record<string, string>) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

type Args = (string | number)[];

/** Defines a typed error: `new ErrorClass(...args)` fills `%s` in the message in order. */
function defineError(code: string, status: number, message: string) {
  return class extends ApiError {
    static readonly code = code;
    constructor(...args: Args) {
      let i = 0;
      super(code, status, message.replace(/%s/g, () => String(args[i++] ?? '')));
    }
  };
}

export const Unauthorized = defineError('SB_UNAUTHORIZED', 401, 'Token missing or wrong, or wrong ClientsID');
export const AdminUnauthorized = defineError('SB_ADMIN_UNAUTHORIZED', 401, 'Admin token missing or wrong');
export const MetricsUnauthorized = defineError('SB_METRICS_UNAUTHORIZED', 401, 'Metrics token or admin token missing or wrong');
// One message for every failed login, so an answer never tells whether a UID exists.
export const LoginFailed = defineError('SB_LOGIN_FAILED', 401, 'UID or password wrong');
export const AgentAreaOnly = defineError('SB_AGENT_AREA_ONLY', 403, 'An agent session token reaches only /agents/me and below; use the client token');
export const AgentTokenRequired = defineError('SB_AGENT_TOKEN_REQUIRED', 403, 'This endpoint acts as the logged-in agent; send an agent session token');
// Web console sessions (src/modules/console-sessions/): what a signed-in browser may not do.
export const CsrfRejected = defineError('SB_CSRF_REJECTED', 403, 'X-CSRF-Token: missing or wrong; a console session\'s changes need the CsrfToken its sign-in answered');
export const AgentConsoleOnly = defineError('SB_AGENT_CONSOLE_ONLY', 403, 'An agent\'s console session reaches only /agents/me and below');
export const SupervisorReadOnly = defineError('SB_SUPERVISOR_READ_ONLY', 403,
  'A supervisor\'s console session reads the client\'s data, reassigns events and forces agents out; provisioning, tokens, passwords, webhooks and imports need the client token');
export const SupervisorNotAgent = defineError('SB_SUPERVISOR_NOT_AGENT', 403, 'This endpoint acts as the signed-in agent; a supervisor\'s console session does not reach /agents/me');

export const NotFound = defineError('SB_NOT_FOUND', 404, '%s not found');
export const GroupNotFound = defineError('SB_GROUP_NOT_FOUND', 404, 'ACD group %s not found');
export const UserNotFound = defineError('SB_USER_NOT_FOUND', 404, 'User %s not found');
export const EventNotFound = defineError('SB_EVENT_NOT_FOUND', 404, 'ACD event not found');
export const CampaignNotFound = defineError('SB_CAMPAIGN_NOT_FOUND', 404, 'Dialler campaign not found');
export const ContactNotFound = defineError('SB_CONTACT_NOT_FOUND', 404, 'Dialler contact not found');
export const ClientNotFound = defineError('SB_CLIENT_NOT_FOUND', 404, 'Client not found');
export const MembershipNotFound = defineError('SB_MEMBERSHIP_NOT_FOUND', 404, 'User %s is not a member of ACD group %s');

export const Conflict = defineError('SB_CONFLICT', 409, '%s');
export const NotAMember = defineError('SB_NOT_A_MEMBER', 409, 'User %s is not a member of ACD group %s');
// An agent action on an event in a status that does not allow it (accept after the offer expired…).
export const WrongEventStatus = defineError('SB_WRONG_EVENT_STATUS', 409, 'ACD event %s is in status %s; %s needs status %s');
export const AlreadyExists = defineError('SB_ALREADY_EXISTS', 409, '%s "%s" already exists');
// An agent acts on an event that was theirs (it is in their history) but is no longer in their hands.
export const OfferExpired = defineError('SB_OFFER_EXPIRED', 409, 'ACD event %s: your offer expired (not accepted within the offer time) and the event went back to its queue');
export const NoLongerHeld = defineError('SB_NO_LONGER_HELD', 409, 'ACD event %s is no longer in your hands: %s');

/** A single invalid field: 400 naming the field and the reason, with `details`. */
export class InvalidField extends ApiError {
  static readonly code = 'SB_INVALID_FIELD';
  constructor(field: string, reason: string) {
    super('SB_INVALID_FIELD', 400, `${field}: ${reason}`, [{ field, message: reason }]);
  }
}

export const BadRequest = defineError('SB_BAD_REQUEST', 400, '%s');
export const UnsupportedMediaType = defineError('SB_UNSUPPORTED_MEDIA_TYPE', 415, 'Request body must be JSON (Content-Type: application/json)');
export const PayloadTooLarge = defineError('SB_PAYLOAD_TOO_LARGE', 413, 'Request body is larger than %s bytes');
export const InternalError = defineError('SB_INTERNAL', 500, 'Internal server error');
export const Unavailable = defineError('SB_UNAVAILABLE', 503, 'Store not reachable');
export const ShuttingDown = defineError('SB_SHUTTING_DOWN', 503, 'The server is shutting down; send the request again (to another instance)');

// Requests the HTTP layer refuses before any route sees them (src/http/error-handler.ts).
export const MalformedRequest = defineError('SB_MALFORMED_REQUEST', 400, 'Malformed HTTP request: %s');
export const HeadersTooLarge = defineError('SB_HEADERS_TOO_LARGE', 431, 'Request headers are larger than the server accepts');
export const MissingHost = defineError('SB_MISSING_HOST', 400, 'Malformed HTTP request: an HTTP/1.1 request needs a Host header');
export const RequestTimeout = defineError('SB_REQUEST_TIMEOUT', 408, 'The request did not arrive in time');
export const BodyNotUtf8 = defineError('SB_BODY_NOT_UTF8', 400, 'Request body is not valid UTF-8');
export const BodyTooDeep = defineError('SB_BODY_TOO_DEEP', 400, 'Request body nests arrays and objects deeper than %s levels');

/** 429: a request limit is used up; Retry-After (seconds) says when the window starts over. */
export class TooManyRequests extends ApiError {
  static readonly code = 'SB_TOO_MANY_REQUESTS';
  constructor(what: string, retryAfterSeconds: number, headers: Record<string, string> = {}) {
    super('SB_TOO_MANY_REQUESTS', 429, `Too many ${what}; retry in ${retryAfterSeconds} s`, undefined,
      { ...headers, 'retry-after': String(retryAfterSeconds) });
  }
}

/** 409: the first request with this Idempotency-Key is still being answered (src/modules/idempotency/). */
export class IdempotencyKeyInUse extends ApiError {
  static readonly code = 'SB_IDEMPOTENCY_KEY_IN_USE';
  constructor() {
    super('SB_IDEMPOTENCY_KEY_IN_USE', 409, 'Idempotency-Key: the first request with this key is still being answered; send it again shortly to receive its answer',
      undefined, { 'retry-after': '1' });
  }
}
// 422 (IETF httpapi idempotency draft): a key stands for one request for 24 h.
export const IdempotencyKeyReused = defineError('SB_IDEMPOTENCY_KEY_REUSED', 422,
  'Idempotency-Key: this key was used within 24 h for another request (method, path, query or body); a new request needs a new key');
export const IdempotencyBodyUnknown = defineError('SB_IDEMPOTENCY_BODY_UNKNOWN', 422,
  'Idempotency-Key: the first request under this key was answered before its body was read to its end, so no request can be shown to be that one; a new request needs a new key');

/**
 * Why a process could not start or a command could not run (configuration, the data folder, the
 * port, the database): never an HTTP answer; the command line prints its message as one line.
 */
export class StartFailure extends Error {}

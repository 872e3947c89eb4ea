// PostgreSQL error codes the services react to; the same on PGlite and on pg.
function code(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

export const isUniqueViolation = (error: unknown): boolean => code(error) === '23505';
export const isForeignKeyViolation = (error: unknown): boolean => code(error) === '23503';

// Node's socket errors when the server cannot be reached or the connection broke.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// What pg, pg-pool and Kysely say, without a code, about a connection that is gone or never came.
const LOST_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|timeout expired|Client has encountered a connection error|Client was closed|Postgres connection has been discarded|Cannot use a pool after calling end|driver has already been destroyed)/;

/**
 * Whether `error` says the database could not be reached or the connection to it was lost (a
 * restart, terminated backends, a network cut, a connect timeout, too many connections), not
 * that the statement was wrong: the request may succeed later on a fresh connection. Follows
 * `cause` and AggregateError's `errors` (a host name with several addresses fails with one per
 * address).
 */
export function isConnectionLoss(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 4) return false;
  const c = code(error);
  // 08: connection exception; 57P01–05: the server ended the session (shutdown, crash, not yet
  // accepting, database dropped, idle timeout); 53300: too many connections.
  if (c !== undefined && (SOCKET_CODES.has(c) || c.startsWith('08') || c.startsWith('57P') || c === '53300')) return true;
  const { message, cause, errors } = error as { message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof message === 'string' && LOST_MESSAGES.test(message)) return true;
  if (Array.isArray(errors) && errors.some((e) => isConnectionLoss(e, depth + 1))) return true;
  return isConnectionLoss(cause, depth + 1);
}

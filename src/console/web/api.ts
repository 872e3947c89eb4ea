/// <reference lib="dom" />
// The console's only way to the server: the public API (openapi-fetch, typed by the OpenAPI
// document's own types) with the browser session's cookie, plus the CSRF header on every change.
import createClient from 'openapi-fetch';
import type { components, operations, paths } from '../../client/schema.d.ts';

export type Schemas = components['schemas'];
export type Operations = operations;
export type WorkItem = Schemas['AcdEventWorkItem'];
export type AcdEvent = Schemas['AcdEvent'];

/** The console session (…/console/session) and a wallboard row (…/acd/groups/wallboard). */
export type ConsoleSession = Schemas['ConsoleSession'];
export type WallboardRow = Schemas['AcdGroupWallboard'];

export class ApiError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

let csrfToken = '';
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

const changes = (method: string) => method !== 'GET' && method !== 'HEAD';

export const api = createClient<paths>({ baseUrl: location.origin, credentials: 'same-origin' });
/** Fired when the server no longer knows the session (expired, signed out elsewhere): back to sign-in. */
export const SESSION_LOST = 'sb:session-lost';
// The session's own path answers 401 for "not signed in": that is no loss.
const lost = (response: Response) => {
  if (response.status === 401 && !new URL(response.url).pathname.endsWith('/console/session')) window.dispatchEvent(new Event(SESSION_LOST));
};

api.use({
  onRequest({ request }) {
    if (changes(request.method)) request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
  onResponse({ response }) {
    lost(response);
    return response;
  },
});

function reasonOf(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'error' in body && typeof body.error === 'string') return body.error;
  return `HTTP ${status}`;
}

/** The answer's data, or an ApiError with the server's reason. */
export function must<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined) throw new ApiError(result.response.status, reasonOf(result.error, result.response.status));
  return result.data;
}

/** The records of an envelope answer. */
export const records = <T>(result: { data?: { records: T[] }; error?: unknown; response: Response }): T[] => must(result).records;

const sessionParams = (ClientsID: number) => ({ params: { path: { ClientsID } } });

export async function signIn(ClientsID: number, UID: string, Password: string): Promise<ConsoleSession> {
  const [session] = records(await api.POST('/rest/v1.0/{ClientsID}/console/session', { ...sessionParams(ClientsID), body: { UID, Password } }));
  setCsrfToken(session.CsrfToken);
  return session;
}

export async function currentSession(ClientsID: number): Promise<ConsoleSession | null> {
  try {
    const [session] = records(await api.GET('/rest/v1.0/{ClientsID}/console/session', sessionParams(ClientsID)));
    setCsrfToken(session.CsrfToken);
    return session;
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 404)) return null;
    throw error;
  }
}

export async function signOut(ClientsID: number): Promise<void> {
  await api.DELETE('/rest/v1.0/{ClientsID}/console/session', sessionParams(ClientsID)).catch(() => undefined);
  setCsrfToken('');
}

/** The message of anything thrown, for an alert. */
export const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

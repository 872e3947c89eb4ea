// Credentials this instance has verified, kept in memory so that a request authenticates without
// a query (on the create hot path that query cost as much as the rest of the rules together).
//
// A cached credential must never outlive its revocation:
// - Whoever changes a credential in this process forgets it here once the change has committed
//   (the routes that rotate, end sessions or delete users), so "at once" holds on this instance.
// - Every other instance hears it from migration 005's triggers on CREDENTIALS_CHANNEL; PGlite
//   is one process, and there the notification has even arrived before the change's commit
//   settles.
// - Entries are trusted only while notifications are live: on PostgreSQL the listening
//   connection may drop, and whatever it missed is unknown, so a drop empties the cache and
//   nothing is cached until it is back.
// - A load that raced with a change (it read before the commit, answers after the notification)
//   is not stored: every forget bumps a generation, and a load stores only if none happened
//   while it ran.
// Presented tokens are still hashed and compared in constant time on every request; only the
// stored side comes from memory.
import type { Store } from '../db/store.ts';

export interface ClientCredentials {
  /** Null: the client has no token (yet); nothing matches. */
  tokenHash: string | null;
  timeZone: string;
}

export interface AgentSession {
  id: number;
  userId: number;
  clientId: number;
  expiresAt: Date;
}

/** Even with live notifications, re-read now and then: a safety net costing one query a minute. */
const MAX_AGE_MS = 60_000;
/** Beyond this many entries the cache starts over rather than grow with every token ever seen. */
const MAX_ENTRIES = 20_000;

interface Entry<T> {
  value: T;
  storedAt: number;
}

export class CredentialCache {
  readonly #live: () => boolean;
  readonly #maxAgeMs: number;
  readonly #unsubscribe: () => void;
  /** null: no such client. Remembered too, so that timing does not tell which ClientsIDs exist. */
  readonly #clients = new Map<number, Entry<ClientCredentials | null>>();
  /** By the hash of the session token. */
  readonly #sessions = new Map<string, Entry<AgentSession>>();
  #generation = 0;

  constructor(store: Pick<Store, 'notificationsLive' | 'onCredentialsChange'>, options: { maxAgeMs?: number } = {}) {
    this.#live = () => store.notificationsLive();
    this.#maxAgeMs = options.maxAgeMs ?? MAX_AGE_MS;
    this.#unsubscribe = store.onCredentialsChange((payload) => this.#forget(payload));
  }

  /** The client's stored credentials (null: no such client): from memory when trustworthy, else from `load`. */
  async client(clientId: number, load: () => Promise<ClientCredentials | null>): Promise<ClientCredentials | null> {
    const hit = this.#fresh(this.#clients.get(clientId));
    if (hit !== undefined) return hit;
    return (await this.#load(load, (value) => this.#clients.set(clientId, value))) ?? null;
  }

  /** The live session with this token hash of one of the client's agents. */
  async session(clientId: number, tokenHash: string, now: Date, load: () => Promise<AgentSession | undefined>): Promise<AgentSession | undefined> {
    const hit = this.#fresh(this.#sessions.get(tokenHash));
    if (hit && hit.clientId === clientId && hit.expiresAt > now) return hit;
    return this.#load(load, (value) => this.#sessions.set(tokenHash, value));
  }

  /** After the client's creation, a change of its token, or its end has committed. */
  forgetClient(clientId: number): void {
    this.#forget(`c:${clientId}`);
  }

  /** After sessions of the agent ended (logout, new password, the user's deletion) and committed. */
  forgetAgent(userId: number): void {
    this.#forget(`u:${userId}`);
  }

  close(): void {
    this.#unsubscribe();
    this.#forget('');
  }

  get size(): number {
    return this.#clients.size + this.#sessions.size;
  }

  #fresh<T>(entry: Entry<T> | undefined): T | undefined {
    if (!entry || !this.#live() || performance.now() - entry.storedAt > this.#maxAgeMs) return undefined;
    return entry.value;
  }

  async #load<T>(load: () => Promise<T | undefined>, store: (entry: Entry<T>) => void): Promise<T | undefined> {
    const generation = this.#generation;
    const liveBefore = this.#live();
    const value = await load();
    if (value !== undefined && liveBefore && this.#live() && generation === this.#generation) {
      if (this.size >= MAX_ENTRIES) this.#forget('');
      store({ value, storedAt: performance.now() });
    }
    return value;
  }

  /** '' forgets everything; "c:<ClientsID>" a client and its agents' sessions; "u:<UsersID>" an agent's sessions. */
  #forget(payload: string): void {
    this.#generation++;
    const [kind, raw] = payload.split(':');
    const id = Number(raw);
    if (kind === 'c' && Number.isInteger(id)) {
      this.#clients.delete(id);
      for (const [hash, entry] of this.#sessions) if (entry.value.clientId === id) this.#sessions.delete(hash);
    } else if (kind === 'u' && Number.isInteger(id)) {
      for (const [hash, entry] of this.#sessions) if (entry.value.userId === id) this.#sessions.delete(hash);
    } else {
      this.#clients.clear();
      this.#sessions.clear();
    }
  }
}

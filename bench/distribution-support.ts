// Shared ground of the distribution benchmark and stress test (bench/distribution.ts,
// bench/stress-distribution.ts): `switchboard serve` child processes, a small keep-alive HTTP
// client, provisioning through the API, simulated agents that follow their live stream (or poll
// their inbox: BENCH_AGENT_MODE=poll) and act, event creators, and the audit of acd_event_history
// that tells whether an event was ever in two agents' hands.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export { sleep };

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  status: number;
  body: any;
}

/** A transport failure (refused, reset, timed out): the request's outcome is unknown. */
export class TransportError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** One Switchboard instance as seen from the client side, with its own keep-alive pool. */
export class Api {
  readonly url: string;
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  constructor(url: string, options: { maxSockets?: number; timeoutMs?: number } = {}) {
    this.url = url;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  call(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        reject(new TransportError(`${method} ${path}: ${error.message}`, error.code ?? 'ERR'));
      };
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      const request = http.request(`${this.url}${path}`, { method, agent: this.agent, headers, timeout: this.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        response.on('end', () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = text;
          }
          resolve({ status: response.statusCode ?? 0, body: json });
        });
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', fail);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws unless the answer is 200; returns the first record of the envelope. */
export async function expectRecord(reply: Promise<Reply>, what: string): Promise<any> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body?.records?.[0];
}

// ---------------------------------------------------------------------------------------------
// `switchboard serve` in a child process

const SWITCHBOARD_BIN = fileURLToPath(new URL('../bin/switchboard.js', import.meta.url));
const LISTENING = /Switchboard listening on (http:\/\/\S+)/;
const children = new Set<ChildProcess>();
// Whatever way this process ends, it takes its servers with it.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** What a server logged at warn level or above: counts per message, with a sample of each. */
export class ServerLog {
  readonly counts = new Map<string, { level: number; n: number; sample: string }>();
  add(line: string): void {
    let entry: { level?: number; msg?: string; err?: { message?: string; code?: string } };
    try {
      entry = JSON.parse(line);
    } catch {
      if (line.trim()) this.#count(50, `(non-JSON) ${line.slice(0, 160)}`, line);
      return;
    }
    if (typeof entry.level !== 'number' || entry.level < 40) return;
    const detail = entry.err?.message ? `: ${entry.err.message.split('\n')[0].slice(0, 160)}` : '';
    this.#count(entry.level, `${entry.msg ?? '?'}${detail}`, line.slice(0, 600));
  }
  #count(level: number, key: string, sample: string): void {
    const seen = this.counts.get(key);
    if (seen) seen.n++;
    else this.counts.set(key, { level, n: 1, sample });
  }
  get errors(): number {
    let n = 0;
    for (const c of this.counts.values()) if (c.level >= 50) n += c.n;
    return n;
  }
  lines(): string[] {
    return [...this.counts.entries()].map(([key, c]) => `${c.level >= 50 ? 'error' : 'warn'} x${c.n}: ${key}`);
  }
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  url: string;
  log: ServerLog;
  exited: Promise<number | null>;
}

/**
 * Starts `switchboard serve` (distribution engine running) and resolves once it listens. `env`
 * names the store: DATABASE_URL for PostgreSQL, SWITCHBOARD_DATA_DIR alone for PGlite.
 */
export async function startServer(env: Record<string, string>, options: { port?: number; log?: ServerLog } = {}): Promise<ServerProcess> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env };
  delete childEnv.DATABASE_URL;
  delete childEnv.SWITCHBOARD_DATA_DIR;
  Object.assign(childEnv, { HOST: '127.0.0.1', PORT: String(options.port ?? 0), LOG_LEVEL: 'warn', ...env });
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof": node options for the servers only.
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS?.split(/\s+/).filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...nodeArgs, SWITCHBOARD_BIN, 'serve'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const log = options.log ?? new ServerLog();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    children.delete(child);
    resolve(code);
  }));
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchboard serve did not listen within 60 s: ${stderr}`)), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = LISTENING.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      } else if (line.startsWith('{')) {
        log.add(line);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`switchboard serve exited with ${code} before listening: ${stderr}`));
    });
  });
  return { child, port: Number(new URL(url).port), url, log, exited };
}

/** SIGTERM, then SIGKILL if it has not stopped within `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 15_000): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  await server.exited;
  clearTimeout(timer);
}

export function newAdminToken(): string {
  return `sba_bench_${randomBytes(18).toString('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Provisioning through the API

export interface AgentCredentials {
  userId: number;
  uid: string;
  token: string;
  groups: number[];
}

export interface Tenant {
  clientId: number;
  token: string;
  /** `/rest/v1.0/{ClientsID}` */
  base: string;
  groupIds: number[];
  agents: AgentCredentials[];
}

export interface ProvisionOptions {
  name: string;
  timeZone: string;
  groups: number;
  agents: number;
  /** The groups agent i joins (indexes into the group list). */
  groupsOf(agentIndex: number): number[];
  groupFields?: Record<string, unknown>;
  /** Parallel requests while provisioning agents (password hashing is the slow part). */
  concurrency?: number;
}

const PASSWORD = 'bench horse battery staple';

export async function provision(apis: Api[], adminToken: string, o: ProvisionOptions): Promise<Tenant> {
  const admin = apis[0];
  const client = await expectRecord(admin.call('POST', '/rest/v1.0/clients/create', adminToken, { Name: o.name, TimeZone: o.timeZone }), 'create client');
  const base = `/rest/v1.0/${client.ClientsID}`;
  const token: string = client.Token;
  const groupIds: number[] = [];
  for (let g = 0; g < o.groups; g++) {
    const group = await expectRecord(admin.call('POST', `${base}/acd/groups/create`, token, { Name: `Bench queue ${g + 1}`, ...o.groupFields }), 'create group');
    groupIds.push(group.ID);
  }
  const agents: AgentCredentials[] = new Array(o.agents);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < o.agents; i = next++) {
      const api = apis[i % apis.length];
      const uid = `agent${String(i + 1).padStart(3, '0')}`;
      const user = await expectRecord(api.call('POST', `${base}/users/create`, token, { UID: uid, FirstName: 'Bench', LastName: `Agent ${i + 1}` }), 'create user');
      const groups = o.groupsOf(i).map((g) => groupIds[g]);
      for (const g of groups) {
        const r = await api.call('PUT', `${base}/acd/groups/group/${g}/members/${user.ID}`, token, { Skills: {} });
        if (r.status !== 200) throw new Error(`add member: HTTP ${r.status} ${JSON.stringify(r.body)}`);
      }
      const set = await api.call('PUT', `${base}/users/user/${user.ID}/password`, token, { Password: PASSWORD });
      if (set.status !== 200) throw new Error(`set password: HTTP ${set.status} ${JSON.stringify(set.body)}`);
      const session = await expectRecord(api.call('POST', `${base}/agents/login`, undefined, { UID: uid, Password: PASSWORD }), 'agent login');
      await expectRecord(api.call('POST', `${base}/agents/me/acd/login`, session.Token), 'ACD login');
      for (const g of groups) await expectRecord(api.call('POST', `${base}/agents/me/groups/${g}/login`, session.Token), 'group login');
      agents[i] = { userId: user.ID, uid, token: session.Token, groups };
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 4 }, worker));
  return { clientId: client.ClientsID, token, base, groupIds, agents };
}

// ---------------------------------------------------------------------------------------------
// Simulated agents

export type AgentMode = 'push' | 'poll';

/** BENCH_AGENT_MODE=poll: agents poll their inbox while idle instead of reading their live stream. */
export function agentModeFromEnv(): AgentMode {
  const mode = process.env.BENCH_AGENT_MODE?.trim() || 'push';
  if (mode !== 'push' && mode !== 'poll') throw new Error(`BENCH_AGENT_MODE: unknown mode ${mode} (push or poll)`);
  return mode;
}

export interface AgentStats {
  /** GET /agents/me/events (idle polls in poll mode, safety polls in push mode). */
  polls: number;
  accepted: number;
  /** Accept answered 404/409: the offer expired or went elsewhere meanwhile. */
  acceptRefused: number;
  done: number;
  doneRefused: number;
  /** Non-2xx answers other than the refusals above (5xx, 503 while a server shuts down…). */
  httpErrors: number;
  transportErrors: number;
  failovers: number;
  /** Push mode: streams opened (answered 200), the first one included. */
  streamOpens: number;
  /** Push mode: streams that ended or broke while the agent was running, or could not be opened. */
  streamDrops: number;
  /** Push mode: messages received (any topic). */
  streamMessages: number;
  /** Push mode: offers to this agent (→ 10) received on the stream. */
  streamOffers: number;
  /** Push mode: offers a safety poll found that the stream had not delivered (yet). */
  offersFoundByPoll: number;
}

export function emptyAgentStats(): AgentStats {
  return {
    polls: 0, accepted: 0, acceptRefused: 0, done: 0, doneRefused: 0, httpErrors: 0, transportErrors: 0, failovers: 0,
    streamOpens: 0, streamDrops: 0, streamMessages: 0, streamOffers: 0, offersFoundByPoll: 0,
  };
}

export function addStats(into: AgentStats, from: AgentStats): AgentStats {
  for (const key of Object.keys(into) as (keyof AgentStats)[]) into[key] += from[key];
  return into;
}

export interface SimAgentOptions {
  /** 'push' (default): reads its live stream and polls its inbox only now and then; 'poll': polls while idle. */
  mode?: AgentMode;
  /** Poll mode: idle poll interval, drawn uniformly from [min, max] ms. */
  idleMs: [number, number];
  /** Push mode: the safety poll of the inbox, drawn uniformly from [min, max] ms; default 2-5 s. */
  safetyPollMs?: [number, number];
  /** Between accept and done, drawn uniformly from [min, max] ms; default none (done at once). */
  workMs?: [number, number];
  /**
   * On a transport error (or a broken stream): 'failover' moves on to the next server at once;
   * 'wait' keeps retrying its own server (an agent whose browser waits for its server to come back).
   */
  onTransportError: 'failover' | 'wait';
  onDone?: (eventId: number) => void;
  /**
   * Called when the agent learns of an offer (status 10): from its stream (push mode, the moment
   * the message arrives) or from an inbox poll (poll mode; push mode's safety poll).
   */
  onOfferSeen?: (eventId: number, atMs: number, via: 'stream' | 'poll') => void;
}

/** How long a stream may stay silent (the server sends a comment every 15 s) before it counts as dead. */
const STREAM_SILENCE_MS = 45_000;

interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * One `GET …/agents/me/stream` connection, on a connection of its own (not the keep-alive pool),
 * parsing text/event-stream. `onMessage` gets each dispatched message; `onEnd` is called once,
 * whatever ends the stream (server end, reset, refusal, silence, close()): with the HTTP status if
 * the server answered other than 200, and whether the stream had opened.
 */
class SseConnection {
  readonly #request: http.ClientRequest;
  #ended = false;
  #silence: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    token: string,
    lastEventId: string | undefined,
    handlers: {
      onOpen(): void;
      onMessage(message: SseMessage): void;
      onEnd(outcome: { opened: boolean; status?: number; body?: string; error?: Error & { code?: string } }): void;
    },
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let opened = false;
    const end = (outcome: { status?: number; body?: string; error?: Error & { code?: string } }) => {
      if (this.#ended) return;
      this.#ended = true;
      clearTimeout(this.#silence);
      this.#request.destroy();
      handlers.onEnd({ opened, ...outcome });
    };
    const heard = () => {
      clearTimeout(this.#silence);
      this.#silence = setTimeout(() => end({ error: Object.assign(new Error('stream silent'), { code: 'ESILENT' }) }), STREAM_SILENCE_MS);
    };
    this.#request = http.request(url, { method: 'GET', agent: false, headers }, (response) => {
      response.on('error', (error) => end({ error }));
      if (response.statusCode !== 200) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => end({ status: response.statusCode, body }));
        response.on('close', () => end({ status: response.statusCode, body }));
        return;
      }
      opened = true;
      heard();
      handlers.onOpen();
      // The SSE format: fields up to a blank line make a message; `data` lines join with \n.
      let buffer = '';
      let id: string | undefined;
      let event = '';
      let data: string[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (this.#ended) return;
        heard();
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          let line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (line === '') {
            if (data.length > 0) handlers.onMessage({ id, event: event || 'message', data: data.join('\n') });
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      });
      response.on('end', () => end({}));
      response.on('close', () => end({ error: Object.assign(new Error('stream closed'), { code: 'ECONNRESET' }) }));
    });
    this.#request.on('error', (error) => end({ error }));
    this.#request.end();
    // Also bounds the wait for the answer's head.
    heard();
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#silence);
    this.#request.destroy();
  }
}

interface StreamOffer {
  eventId: number;
  /** Date.now() when the message arrived. */
  atMs: number;
}

/**
 * An agent at a browser. Push mode (default): holds `GET /agents/me/stream` open, and on an offer
 * message for it (→ 10) accepts and finishes the event; every few seconds it also reads its inbox
 * (`GET /agents/me/events`) to catch anything the stream did not bring, and when the stream breaks
 * it reconnects with Last-Event-ID (to another server when failing over, reading its inbox there
 * once as well). Poll mode: no stream, polls the inbox while idle. In both, every offer found is
 * accepted and finished (after the work time, if any), and events found already in hand (an
 * accept whose answer was lost) are finished too.
 */
export class SimAgent {
  readonly creds: AgentCredentials;
  readonly stats = emptyAgentStats();
  readonly mode: AgentMode;
  readonly #apis: Api[];
  readonly #base: string;
  readonly #o: SimAgentOptions;
  #server: number;
  #stopped = false;
  #running: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  // Push mode.
  #stream: SseConnection | null = null;
  /** The server the current (or last) stream was opened on. */
  #streamServer = -1;
  #lastEventId: string | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  readonly #offers: StreamOffer[] = [];
  /** Events this agent finished: a late or replayed offer message for one of them is skipped. */
  readonly #finished = new Set<number>();
  /** Events the stream offered to this agent (to tell which offers only a safety poll found). */
  readonly #streamOffered = new Set<number>();
  #pollNow = false;
  /** Push mode: safety polls held (holdSafetyPolls). */
  #pollsHeld = false;
  #pollsResumed = false;
  #markReady!: () => void;
  /**
   * Resolves once the agent can learn of an offer at once: its stream is open (push mode; the
   * server has fixed where the stream starts, so no later offer is missed) or at once (poll mode).
   * Also resolves if the first attempt to open the stream fails, so that nobody waits forever.
   */
  readonly ready = new Promise<void>((resolve) => (this.#markReady = resolve));

  constructor(creds: AgentCredentials, apis: Api[], base: string, home: number, options: SimAgentOptions) {
    this.creds = creds;
    this.#apis = apis;
    this.#base = base;
    this.#server = home % apis.length;
    this.#o = options;
    this.mode = options.mode ?? 'push';
    if (this.mode === 'poll') this.#markReady();
  }

  /** An unexpected failure that stopped this agent (a transport error never does). */
  error: unknown;

  start(): void {
    this.#running ??= (this.mode === 'push' ? this.#pushLoop() : this.#pollLoop()).catch((error: unknown) => {
      this.error = error;
    }).finally(() => this.#closeStream());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#markReady();
    this.#closeStream();
    this.#wake?.();
    await this.#running;
  }

  /**
   * Push mode: holds the safety polls (the stream still brings offers), so that an idle agent
   * costs the server nothing while another system is measured on the same machine; on release
   * the next poll is drawn afresh from then.
   */
  holdSafetyPolls(hold: boolean): void {
    this.#pollsHeld = hold;
    if (!hold) this.#pollsResumed = true;
    this.#wake?.();
  }

  #call(method: string, path: string): Promise<Reply> {
    return this.#apis[this.#server].call(method, `${this.#base}${path}`, this.creds.token);
  }

  async #pause(ms: number): Promise<void> {
    if (this.#stopped) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, ms));
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#wake = null;
  }

  static #draw([lo, hi]: [number, number]): number {
    return lo + Math.random() * (hi - lo);
  }

  /** After a transport error: next server at once ('failover'), or a pause before trying this one again. */
  async #afterTransportError(): Promise<void> {
    this.stats.transportErrors++;
    if (this.#o.onTransportError === 'failover') {
      this.#server = (this.#server + 1) % this.#apis.length;
      this.stats.failovers++;
      await this.#pause(20);
    } else {
      await this.#pause(250);
    }
  }

  /** Accept (unless `held`), work, done. Returns whether the event was worked on. */
  async #work(id: number, held: boolean): Promise<boolean> {
    if (!held) {
      const accepted = await this.#call('POST', `/agents/me/events/${id}/accept`);
      if (accepted.status === 404 || accepted.status === 409) {
        this.stats.acceptRefused++;
        return false;
      }
      if (accepted.status !== 200) {
        this.stats.httpErrors++;
        return false;
      }
      this.stats.accepted++;
    }
    // Not #pause: an offer message arriving meanwhile must not cut the work short.
    if (this.#o.workMs && !this.#stopped) await sleep(SimAgent.#draw(this.#o.workMs));
    const done = await this.#call('POST', `/agents/me/events/${id}/done`);
    if (done.status === 200) {
      this.stats.done++;
      this.#finished.add(id);
      this.#o.onDone?.(id);
    } else if (done.status === 404 || done.status === 409) {
      this.stats.doneRefused++;
    } else {
      this.stats.httpErrors++;
    }
    return true;
  }

  /** One read of the inbox, working off what it shows. Returns whether anything was worked on. */
  async #pollInbox(): Promise<boolean> {
    this.stats.polls++;
    const inbox = await this.#call('GET', '/agents/me/events');
    if (inbox.status !== 200) {
      this.stats.httpErrors++;
      return false;
    }
    let worked = false;
    for (const record of inbox.body.records as { ID: number; AcdEventStatusID: number }[]) {
      if (this.#stopped) break;
      const id = record.ID;
      if (record.AcdEventStatusID === 10) {
        this.#o.onOfferSeen?.(id, Date.now(), 'poll');
        if (this.mode === 'push' && !this.#streamOffered.has(id)) this.stats.offersFoundByPoll++;
        if (await this.#work(id, false)) worked = true;
      } else if (record.AcdEventStatusID === 20 || record.AcdEventStatusID === 30) {
        if (await this.#work(id, true)) worked = true;
      }
    }
    return worked;
  }

  async #pollLoop(): Promise<void> {
    while (!this.#stopped) {
      let worked: boolean;
      try {
        worked = await this.#pollInbox();
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        await this.#afterTransportError();
        continue;
      }
      if (!worked) await this.#pause(SimAgent.#draw(this.#o.idleMs));
    }
  }

  // --- Push mode ---------------------------------------------------------------------------

  #closeStream(): void {
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#stream?.close();
    this.#stream = null;
  }

  #openStream(): void {
    if (this.#stopped) return;
    const server = this.#server;
    // Reconnecting to another instance: the inbox there is read once too (belt and braces; the
    // feed is shared, so Last-Event-ID resumes there just as well).
    if (this.#streamServer !== -1 && server !== this.#streamServer) this.#requestPoll();
    this.#streamServer = server;
    const url = `${this.#apis[server].url}${this.#base}/agents/me/stream`;
    const connection: SseConnection = new SseConnection(url, this.creds.token, this.#lastEventId, {
      onOpen: () => {
        this.stats.streamOpens++;
        this.#markReady();
        // Without Last-Event-ID a stream starts with what happens next: what came before, the inbox shows.
        if (this.#lastEventId === undefined) this.#requestPoll();
      },
      onMessage: (message) => this.#onStreamMessage(message),
      onEnd: (outcome) => {
        if (this.#stream !== connection) return;
        this.#stream = null;
        this.#markReady();
        if (this.#stopped) return;
        this.stats.streamDrops++;
        let delay = 250;
        if (outcome.status !== undefined) {
          // The server answered, but not with a stream: a 5xx (shutting down…) is retried; anything
          // else is a mistake of this script.
          if (outcome.status < 500) {
            this.error ??= new Error(`agent ${this.creds.uid}: stream answered HTTP ${outcome.status} ${outcome.body ?? ''}`);
            this.#stopped = true;
            this.#wake?.();
            return;
          }
          this.stats.httpErrors++;
        } else if (!outcome.opened || outcome.error) {
          this.stats.transportErrors++;
        }
        if (this.#o.onTransportError === 'failover' && this.#server === server) {
          this.#server = (this.#server + 1) % this.#apis.length;
          this.stats.failovers++;
          delay = 20;
        } else if (this.#server !== server) {
          // The agent's requests already moved on: follow them at once.
          delay = 20;
        }
        // Whatever the stream may not bring after a break, the next poll catches.
        this.#requestPoll();
        this.#reconnectTimer = setTimeout(() => this.#openStream(), delay);
      },
    });
    this.#stream = connection;
  }

  #onStreamMessage(message: SseMessage): void {
    const atMs = Date.now();
    if (message.id !== undefined) this.#lastEventId = message.id;
    this.stats.streamMessages++;
    if (message.event !== 'event') return;
    let data: { AcdEventsID?: number; ToAcdEventStatusID?: number; UsersID?: number };
    try {
      data = JSON.parse(message.data);
    } catch {
      this.error ??= new Error(`agent ${this.creds.uid}: stream message ${message.id} is not JSON: ${message.data.slice(0, 200)}`);
      return;
    }
    if (data.ToAcdEventStatusID !== 10 || data.UsersID !== this.creds.userId || typeof data.AcdEventsID !== 'number') return;
    this.stats.streamOffers++;
    this.#streamOffered.add(data.AcdEventsID);
    this.#o.onOfferSeen?.(data.AcdEventsID, atMs, 'stream');
    this.#offers.push({ eventId: data.AcdEventsID, atMs });
    this.#wake?.();
  }

  #requestPoll(): void {
    this.#pollNow = true;
    this.#wake?.();
  }

  async #pushLoop(): Promise<void> {
    const safety = this.#o.safetyPollMs ?? [2000, 5000];
    let nextPoll = Date.now() + SimAgent.#draw(safety);
    this.#openStream();
    while (!this.#stopped) {
      try {
        const offer = this.#offers.shift();
        if (offer) {
          // A replayed message (Last-Event-ID) or an offer a poll already worked off.
          if (!this.#finished.has(offer.eventId)) await this.#work(offer.eventId, false);
          continue;
        }
        if (this.#pollsResumed) {
          this.#pollsResumed = false;
          nextPoll = Date.now() + SimAgent.#draw(safety);
        }
        if (this.#pollNow || (!this.#pollsHeld && Date.now() >= nextPoll)) {
          this.#pollNow = false;
          nextPoll = Date.now() + SimAgent.#draw(safety);
          await this.#pollInbox();
          continue;
        }
      } catch (error) {
        if (!(error instanceof TransportError)) throw error;
        await this.#afterTransportError();
        // The outcome of the last request is unknown: the inbox tells.
        this.#pollNow = true;
        // The stream follows the requests to the next server if it is still on the old one.
        if (this.#stream && this.#streamServer !== this.#server) {
          this.#closeStream();
          this.#openStream();
        }
        continue;
      }
      await this.#pause(this.#pollsHeld ? 60_000 : nextPoll - Date.now());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Creating events

export interface CreateOptions {
  apis: Api[];
  tenant: Tenant;
  count: number;
  concurrency: number;
  /** The create body of event i. */
  body(i: number): Record<string, unknown>;
  /** The server event i is first sent to. */
  server?(i: number): number;
  /** Pause before each create (ms), to pace the load instead of flooding. */
  gapMs?: number;
  onCreated?(i: number, id: number): void;
}

export interface CreateResult {
  /** ID the API acknowledged for event i (200). */
  ids: number[];
  /** Date.now() when the acknowledged attempt of event i was sent. */
  sentAt: number[];
  /** Date.now() when its 200 answer arrived. */
  answeredAt: number[];
  transportErrors: number;
  httpErrors: number;
  retries: number;
  seconds: number;
}

/**
 * POST /acd/events/create `count` times from `concurrency` loops. A transport error or a 5xx is
 * retried on the next server (the first attempt may or may not have stored an event; the audit
 * counts such extra rows); any 4xx is a bug in the script and ends the run.
 */
export async function createEvents(o: CreateOptions): Promise<CreateResult> {
  const result: CreateResult = { ids: new Array(o.count), sentAt: new Array(o.count), answeredAt: new Array(o.count), transportErrors: 0, httpErrors: 0, retries: 0, seconds: 0 };
  const started = performance.now();
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < o.count; i = next++) {
      if (o.gapMs) await sleep(o.gapMs);
      let server = (o.server?.(i) ?? i) % o.apis.length;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) result.retries++;
        if (attempt > 200) throw new Error(`create ${i}: gave up after ${attempt} attempts`);
        const sentAt = Date.now();
        let reply: Reply;
        try {
          reply = await o.apis[server].call('POST', `${o.tenant.base}/acd/events/create`, o.tenant.token, o.body(i));
        } catch (error) {
          if (!(error instanceof TransportError)) throw error;
          result.transportErrors++;
          server = (server + 1) % o.apis.length;
          await sleep(20);
          continue;
        }
        if (reply.status === 200) {
          const id = reply.body.records[0].ID as number;
          result.ids[i] = id;
          result.sentAt[i] = sentAt;
          result.answeredAt[i] = Date.now();
          o.onCreated?.(i, id);
          break;
        }
        if (reply.status < 500) throw new Error(`create ${i}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
        result.httpErrors++;
        server = (server + 1) % o.apis.length;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading the database afterwards

export type Query = (text: string, params?: unknown[]) => Promise<Record<string, any>[]>;

export function pgQuery(client: pg.Client | pg.Pool): Query {
  return async (text, params) => (await client.query(text, params as unknown[])).rows;
}

export interface EventRow {
  id: number;
  status: number;
  createdMs: number;
  appointmentMs: number | null;
  userData: string | null;
}

export interface HistoryRow {
  eventId: number;
  id: number;
  from: number | null;
  to: number;
  agentId: number | null;
  reason: string | null;
  atMs: number;
}

export async function readEvents(query: Query, clientId: number): Promise<EventRow[]> {
  const rows = await query(
    `SELECT id, status_id, (extract(epoch FROM created_at) * 1000)::float8 AS created_ms,
       (extract(epoch FROM appointment_at) * 1000)::float8 AS appointment_ms, user_data
     FROM acd_events WHERE client_id = $1 ORDER BY id`, [clientId]);
  return rows.map((r) => ({ id: r.id, status: r.status_id, createdMs: r.created_ms, appointmentMs: r.appointment_ms, userData: r.user_data }));
}

export async function readHistory(query: Query, clientId: number): Promise<HistoryRow[]> {
  const rows = await query(
    `SELECT h.event_id, h.id, h.from_status_id, h.to_status_id, h.agent_id, h.reason,
       (extract(epoch FROM h.created_at) * 1000)::float8 AS at_ms
     FROM acd_event_history h JOIN acd_events e ON e.id = h.event_id
     WHERE e.client_id = $1 ORDER BY h.event_id, h.id`, [clientId]);
  return rows.map((r) => ({ eventId: r.event_id, id: r.id, from: r.from_status_id, to: r.to_status_id, agentId: r.agent_id, reason: r.reason, atMs: r.at_ms }));
}

export interface Audit {
  /** Events with any sign of two holders (see auditHistory). */
  doubleAssigned: number[];
  /** Why, per event (first problem found). */
  problems: Map<number, string>;
  /** ms from dtCreated to the first offer (4 → 10), per event that was offered. */
  offerLatencyMs: Map<number, number>;
  /** ms from the appointment to the move 1 → 4, per event with an appointment. */
  releaseLatenessMs: Map<number, number>;
  /** Offers that ran out (10 → 4, 'offer not accepted in time'). */
  expiredOffers: number;
  rejectedOrOtherReturns: number;
}

/**
 * Walks every event's history in the order it was written (history ids are taken under the
 * event's row lock, so per event they follow the commits) and flags an event when
 *   - it was accepted (10 → 20) more than once, or finished (→ 99) more than once or by two agents;
 *   - a transition starts from a status other than the one the previous transition ended in
 *     (two writers acted on the same state);
 *   - it was offered while offered or in someone's hands (two holders at once);
 *   - it was accepted or finished by an agent other than the one holding it.
 */
export function auditHistory(events: EventRow[], history: HistoryRow[]): Audit {
  const byId = new Map(events.map((e) => [e.id, e]));
  const audit: Audit = {
    doubleAssigned: [], problems: new Map(), offerLatencyMs: new Map(), releaseLatenessMs: new Map(), expiredOffers: 0, rejectedOrOtherReturns: 0,
  };
  const flag = (eventId: number, why: string) => {
    if (!audit.problems.has(eventId)) {
      audit.problems.set(eventId, why);
      audit.doubleAssigned.push(eventId);
    }
  };
  let i = 0;
  while (i < history.length) {
    const eventId = history[i].eventId;
    const event = byId.get(eventId);
    let previousTo: number | null = null;
    let holder: number | null = null;
    let accepts = 0;
    const finishers: (number | null)[] = [];
    for (; i < history.length && history[i].eventId === eventId; i++) {
      const h = history[i];
      if (h.from !== previousTo) flag(eventId, `history ${h.id}: ${h.from} → ${h.to} after the event had moved to ${previousTo}`);
      if (h.to === 10) {
        if (holder !== null) flag(eventId, `history ${h.id}: offered to ${h.agentId} while agent ${holder} held it`);
        holder = h.agentId;
        if (!audit.offerLatencyMs.has(eventId) && event) audit.offerLatencyMs.set(eventId, h.atMs - event.createdMs);
      } else if (h.to === 20 && h.from === 10) {
        accepts++;
        if (h.agentId !== holder) flag(eventId, `history ${h.id}: accepted by ${h.agentId}, offered to ${holder}`);
      } else if (h.to === 99) {
        finishers.push(h.agentId);
        if (h.agentId !== holder) flag(eventId, `history ${h.id}: done by ${h.agentId}, held by ${holder}`);
      } else if (h.to === 4 || h.to === 1) {
        if (h.from === 10 && h.reason === 'offer not accepted in time') audit.expiredOffers++;
        else if (h.from !== null && h.from !== 1) audit.rejectedOrOtherReturns++;
        holder = null;
      }
      if (h.from === 1 && h.to === 4 && event?.appointmentMs != null) audit.releaseLatenessMs.set(eventId, h.atMs - event.appointmentMs);
      previousTo = h.to;
    }
    if (accepts > 1) flag(eventId, `accepted ${accepts} times`);
    if (finishers.length > 1) flag(eventId, `finished ${finishers.length} times (agents ${finishers.join(', ')})`);
  }
  return audit;
}

// ---------------------------------------------------------------------------------------------
// Watching commits from outside (PostgreSQL)

/**
 * Learns when a change became visible to other sessions: it LISTENs on the channel every history
 * row notifies at commit, and on each notification reads the status of the events it watches.
 * The moment it first sees an event at or past a status is when a client could first have seen
 * it there. (History timestamps are taken when a pass or request starts, a little before commit.)
 */
export class CommitWatcher {
  readonly seenAt = new Map<number, number>();
  readonly #client: pg.Client;
  readonly #pending = new Map<number, number>();
  #busy = false;
  #again = false;

  private constructor(client: pg.Client) {
    this.#client = client;
  }

  static async start(url: string): Promise<CommitWatcher> {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => undefined);
    await client.connect();
    const watcher = new CommitWatcher(client);
    client.on('notification', () => watcher.check());
    await client.query('LISTEN switchboard');
    return watcher;
  }

  /** Note the moment event `id` is first seen with status >= `status` (checks at once, too). */
  watch(id: number, status: number): void {
    this.#pending.set(id, status);
    this.check();
  }

  check(): void {
    if (this.#busy) {
      this.#again = true;
      return;
    }
    if (this.#pending.size === 0) return;
    this.#busy = true;
    // A failed read only loses samples: the next notification reads again.
    void this.#read().catch(() => undefined).finally(() => {
      this.#busy = false;
      if (this.#again) {
        this.#again = false;
        this.check();
      }
    });
  }

  async #read(): Promise<void> {
    const ids = [...this.#pending.keys()];
    const { rows } = await this.#client.query<{ id: number; status_id: number }>('SELECT id, status_id FROM acd_events WHERE id = ANY($1::int[])', [ids]);
    const now = Date.now();
    for (const row of rows) {
      const wanted = this.#pending.get(row.id);
      if (wanted !== undefined && row.status_id >= wanted) {
        this.#pending.delete(row.id);
        this.seenAt.set(row.id, now);
      }
    }
  }

  async stop(): Promise<void> {
    await this.#client.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Figures

/** Nearest-rank percentile of `values` (p in 0..100); NaN when empty. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

export function ms(value: number): number {
  return Math.round(value * 10) / 10;
}

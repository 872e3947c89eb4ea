// Simulated agents: each follows its live stream (or polls its inbox: BENCH_AGENT_MODE=poll),
// accepts and finishes what it is offered, and counts what it saw.
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, type Api, type Reply } from './api.ts';
import type { AgentCredentials } from './provision.ts';
import { SseConnection, type SseMessage } from './sse.ts';

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

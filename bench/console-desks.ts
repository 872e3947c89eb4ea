// The "200 open desks" half of bench/console.ts: agents signed in to the console the way the
// browser signs in (POST …/console/session, then the session cookie and its CSRF token on every
// change), each with its live stream open as the desk's EventSource opens it. Not 200 chromium
// pages: a desk's only long-lived load on the server is that one stream, a plain HTTP GET with the
// cookie and `Accept: text/event-stream`, so node's http client stands in for the browser here.
import http from 'node:http';
import { percentile } from './sim/audit.ts';
import { PASSWORD, type Tenant } from '../test/browser/harness.ts';
import { residentBytes, round } from './support.ts';

/** Event statuses each desk must see for each event of its own: offered, accepted (New), done. */
const EXPECTED_STATUSES = [10, 20, 99] as const;
/** How long after the last action of a round every desk's messages may take to arrive. */
const DELIVERY_DEADLINE_MS = 10_000;
/** Parallel requests of the bench's own clients (integrations creating events, desks acting). */
const CONCURRENCY = 16;

export interface DeskFigures {
  desks: number;
  rounds: number;
  updatesExpected: number;
  updatesLost: number;
  updatesDuplicated: number;
  streamsDropped: number;
  /** Create sent → the offer's message on the desk's stream. */
  deliveryP50Ms: number;
  deliveryP95Ms: number;
  deliveryMaxMs: number;
  /** The engine's part: created → offered in each event's history (the server's clock). */
  engineP50Ms: number;
  engineP95Ms: number;
  /** Resident set size of this process (the server runs in it) before and with the desks open. */
  rssBeforeDesksMb: number;
  rssWithDesksMb: number;
  setupSeconds: number;
}

/** One agent's console session: the cookie and the CSRF token the console sends with changes. */
interface Desk {
  uid: string;
  groupId: number;
  cookie: string;
  csrf: string;
  stream?: DeskStream;
  /** `${eventId}:${status}` → arrival (performance.now()), and how many times each came. */
  seen: Map<string, { at: number; n: number }>;
}

/** A live stream read with EventSource's parsing (only the fields the bench needs: event, data). */
class DeskStream {
  readonly #request: http.ClientRequest;
  ended = false;

  constructor(url: string, cookie: string, onMessage: (event: string, data: string) => void, opened: (error?: Error) => void) {
    this.#request = http.request(url, { agent: false, headers: { cookie, accept: 'text/event-stream', 'cache-control': 'no-cache' } }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        this.ended = true;
        opened(new Error(`stream answered ${response.statusCode}`));
        return;
      }
      opened();
      let buffer = '';
      let event = '';
      let data: string[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            if (data.length > 0) onMessage(event || 'message', data.join('\n'));
            event = '';
            data = [];
          } else if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
        }
      });
      response.on('close', () => (this.ended = true));
    });
    this.#request.on('error', (error) => {
      this.ended = true;
      opened(error);
    });
    this.#request.end();
  }

  close(): void {
    this.ended = true;
    this.#request.destroy();
  }
}

async function inParallel<T>(items: T[], work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** A request of the console: cookie, and the CSRF header on a change. */
async function asDesk(tenant: Tenant, desk: Desk, method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${tenant.world.base}/rest/v1.0/${tenant.id}${path}`, {
    method,
    headers: { cookie: desk.cookie, 'x-csrf-token': desk.csrf, 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await response.json().catch(() => undefined);
  if (!response.ok) throw new Error(`${desk.uid} ${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

export async function measureDesks(tenant: Tenant, count: number, rounds: number, progress: (line: string) => void): Promise<DeskFigures> {
  const setupStarted = performance.now();
  const base = tenant.world.base;
  // One group per desk, the agent its only member: each event created in it is that desk's.
  const desks: Desk[] = [];
  await inParallel(Array.from({ length: count }, (_, i) => i), async (i) => {
    const groupId = await tenant.group({ Name: `Desk queue ${i}`, OfferTimeoutSeconds: 300 });
    const { uid } = await tenant.user('agent', [groupId], `desk-${process.pid}-${i}`);
    const signIn = await fetch(`${base}/rest/v1.0/${tenant.id}/console/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ UID: uid, Password: PASSWORD }),
    });
    if (signIn.status !== 200) throw new Error(`sign-in of ${uid}: ${signIn.status} ${await signIn.text()}`);
    const cookie = /^(sb_session=[^;]+)/.exec(signIn.headers.get('set-cookie') ?? '')?.[1];
    if (!cookie) throw new Error(`sign-in of ${uid} set no sb_session cookie`);
    const desk: Desk = { uid, groupId, cookie, csrf: (await signIn.json()).records[0].CsrfToken, seen: new Map() };
    await asDesk(tenant, desk, 'POST', '/agents/me/acd/login');
    await asDesk(tenant, desk, 'POST', `/agents/me/groups/${groupId}/login`);
    desks[i] = desk;
  });
  progress(`${count} agents provisioned, signed in to the console and ready`);
  const rssBefore = residentBytes();
  const streamUrl = `${base}/rest/v1.0/${tenant.id}/agents/me/stream`;
  await Promise.all(desks.map((desk) => new Promise<void>((resolve, reject) => {
    desk.stream = new DeskStream(streamUrl, desk.cookie, (event, data) => {
      if (event !== 'event') return;
      const message = JSON.parse(data) as { AcdEventsID: number; ToAcdEventStatusID: number };
      const key = `${message.AcdEventsID}:${message.ToAcdEventStatusID}`;
      const entry = desk.seen.get(key);
      if (entry) entry.n++;
      else desk.seen.set(key, { at: performance.now(), n: 1 });
    }, (error) => (error ? reject(error) : resolve()));
  })));
  const setupSeconds = round((performance.now() - setupStarted) / 1000, 1);
  progress(`${count} live streams open`);

  // Per desk, its events; per event, when its create was sent.
  const eventsOf = desks.map(() => [] as number[]);
  const sentAt = new Map<number, number>();
  const delivery: number[] = [];
  const arrived = (desk: Desk, eventId: number, status: number) => desk.seen.has(`${eventId}:${status}`);
  const waitFor = async (what: string, done: () => boolean) => {
    const deadline = performance.now() + DELIVERY_DEADLINE_MS;
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (!done()) progress(`  not everything arrived within ${DELIVERY_DEADLINE_MS} ms: ${what}`);
  };
  for (let r = 0; r < rounds; r++) {
    // A burst: an event for every desk, created over the API by CONCURRENCY integrations at once.
    const started = performance.now();
    const ids: number[] = [];
    await inParallel(desks, async (desk, i) => {
      const sent = performance.now();
      const id = (await tenant.api('POST', '/acd/events/create', {
        AcdEventTypesID: 5, AcdGroupsID: desk.groupId, Sender: `desk${i}.round${r}@example.com`, Subject: `Round ${r} for desk ${i}`,
      })).records[0].ID as number;
      sentAt.set(id, sent);
      eventsOf[i].push(id);
      ids[i] = id;
    });
    const created = performance.now();
    await waitFor(`offers of round ${r}`, () => desks.every((d, i) => arrived(d, ids[i], 10)));
    desks.forEach((d, i) => {
      const offer = d.seen.get(`${ids[i]}:10`);
      if (offer) delivery.push(offer.at - sentAt.get(ids[i])!);
    });
    const offered = performance.now();
    // Each desk works its event: accept, done (what its buttons send).
    await inParallel(desks, async (desk, i) => {
      await asDesk(tenant, desk, 'POST', `/agents/me/events/${ids[i]}/accept`);
      await asDesk(tenant, desk, 'POST', `/agents/me/events/${ids[i]}/done`);
    });
    await waitFor(`accepts and dones of round ${r}`, () => desks.every((d, i) => arrived(d, ids[i], 20) && arrived(d, ids[i], 99)));
    progress(`round ${r + 1}/${rounds}: ${count} creates in ${Math.round(created - started)} ms, all offers on the streams ${Math.round(offered - started)} ms after the first create; accepted and done`);
  }
  const rssWith = residentBytes();
  // The engine's part of the delivery, from each event's history on the server's clock: created →
  // offered. The rest is the create's queueing in the burst and the stream's delivery.
  const engine: number[] = [];
  await inParallel(eventsOf.flat(), async (id) => {
    const history = (await tenant.api('GET', `/acd/events/event/${id}/history`)).records as { FromAcdEventStatusID: number | null; ToAcdEventStatusID: number; dtCreated: string }[];
    const at = (status: number | null, to: boolean) => Date.parse(`${history.find((h) => (to ? h.ToAcdEventStatusID : h.FromAcdEventStatusID) === status)?.dtCreated}Z`);
    engine.push(at(10, true) - at(null, false));
  });

  let expected = 0;
  let lost = 0;
  let duplicated = 0;
  desks.forEach((desk, i) => {
    for (const id of eventsOf[i]) {
      for (const status of EXPECTED_STATUSES) {
        expected++;
        const entry = desk.seen.get(`${id}:${status}`);
        if (!entry) lost++;
        else if (entry.n > 1) duplicated += entry.n - 1;
      }
    }
  });
  const dropped = desks.filter((d) => d.stream!.ended).length;
  for (const desk of desks) desk.stream!.close();
  return {
    desks: count, rounds, updatesExpected: expected, updatesLost: lost, updatesDuplicated: duplicated, streamsDropped: dropped,
    deliveryP50Ms: round(percentile(delivery, 50), 1), deliveryP95Ms: round(percentile(delivery, 95), 1), deliveryMaxMs: round(Math.max(...delivery), 1),
    engineP50Ms: round(percentile(engine, 50), 1), engineP95Ms: round(percentile(engine, 95), 1),
    rssBeforeDesksMb: round(rssBefore / 2 ** 20, 1), rssWithDesksMb: round(rssWith / 2 ** 20, 1), setupSeconds,
  };
}

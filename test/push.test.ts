// Issue 3, live push: Server-Sent Events for agents and supervisors, resumable with
// Last-Event-ID, fed across instances (PostgreSQL NOTIFY) as well as within one (PGlite).
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';
import { describeStores } from './helper.ts';
import { deleteExpired } from '../src/modules/push/repository.ts';
import { announceChanges, changedParties, changeValues, ContactChange, noticesOf, recordChanges } from '../src/db/changes.ts';
import { act, newEvent, pass, readyAgent, standaloneGroup } from './fixtures-distribution.ts';

interface SseMessage { id: string; event: string; data: any }

/** An open SSE connection that collects messages; `take(n)` waits for the next n. */
function connect(url: string, token: string, lastEventId?: string): Promise<{ status: number; body?: string; take(n: number): Promise<SseMessage[]>; close(): void }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const req = http.get(url, { headers }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, take: async () => [], close: () => undefined }));
        return;
      }
      const queue: SseMessage[] = [];
      let waiter: (() => void) | null = null;
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            const i = line.indexOf(': ');
            if (i > 0) fields[line.slice(0, i)] = line.slice(i + 2);
          }
          if (fields.data) queue.push({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) });
          waiter?.();
        }
      });
      resolve({
        status: 200,
        async take(n) {
          const deadline = Date.now() + 5000;
          while (queue.length < n) {
            if (Date.now() > deadline) throw new Error(`timed out waiting for ${n} messages, have ${JSON.stringify(queue)}`);
            await new Promise<void>((r) => { waiter = r; setTimeout(r, 100); });
          }
          return queue.splice(0, n);
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
  });
}

describeStores('live push', (h) => {
  let origin = '';
  before(async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    origin = `http://127.0.0.1:${(h.app.server.address() as { port: number }).port}`;
  });

  it('streams an agent their own offers and events only, and the supervisor everything of the client', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const b = await readyAgent(h, c, group);
    const streamA = await connect(`${origin}${c.base}/agents/me/stream`, a.token);
    const supervisor = await connect(`${origin}${c.base}/supervisor/stream`, c.token);
    const other = await h.newClient();
    const foreign = await connect(`${origin}${other.base}/supervisor/stream`, other.token);
    try {
      const mine = await newEvent(c, group, { UsersID: a.userId });
      const theirs = await newEvent(c, group, { UsersID: b.userId });
      await pass(h);
      await act(a, mine, 'accept');
      const [offer, accepted] = await streamA.take(2);
      assert.equal(offer!.event, 'event');
      assert.deepEqual(
        [offer!.data.AcdEventsID, offer!.data.FromAcdEventStatusID, offer!.data.ToAcdEventStatusID, offer!.data.UsersID],
        [mine, 4, 10, a.userId],
      );
      assert.deepEqual([accepted!.data.AcdEventsID, accepted!.data.ToAcdEventStatusID], [mine, 20]);
      assert.ok(Number(accepted!.id) > Number(offer!.id));
      const all = await supervisor.take(7);
      assert.deepEqual(all.map((m) => Number(m.id)), all.map((m) => Number(m.id)).sort((x, y) => x - y), 'in feed order');
      const seen = all.map((m) => [m.data.AcdEventsID, m.data.ToAcdEventStatusID]);
      for (const step of [[mine, 1], [theirs, 1], [mine, 4], [theirs, 4], [mine, 10], [theirs, 10], [mine, 20]]) {
        assert.ok(seen.some((s) => s[0] === step[0] && s[1] === step[1]), `supervisor saw ${step}`);
      }
      await act(a, mine, 'done');
      const [done] = await streamA.take(1);
      assert.equal(done!.data.ToAcdEventStatusID, 99, 'nothing of agent b reached agent a in between');
      assert.match(done!.data.dtCreated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await foreign.take(0), []);
    } finally {
      streamA.close();
      supervisor.close();
      foreign.close();
    }
  });

  it('streams a dialler contact change to the agent it names and to the supervisor', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const b = await readyAgent(h, c, group);
    const streamA = await connect(`${origin}${c.base}/agents/me/stream`, a.token);
    const streamB = await connect(`${origin}${c.base}/agents/me/stream`, b.token);
    const supervisor = await connect(`${origin}${c.base}/supervisor/stream`, c.token);
    try {
      const { rows: [campaign] } = await sql<{ id: number }>`
        INSERT INTO dialler_campaigns (client_id, name) VALUES (${c.id}, 'Push test') RETURNING id`.execute(h.store.db);
      const { rows: [contact] } = await sql<{ id: number }>`
        INSERT INTO dialler_contacts (client_id, campaign_id, name, time_zone) VALUES (${c.id}, ${campaign!.id}, 'Ada', 'UTC') RETURNING id`.execute(h.store.db);
      const { rows } = await sql<{ client_id: number; agent_id: number | null }>`
        WITH ${recordChanges(ContactChange, changeValues(ContactChange, [{
          client_id: c.id, campaign_id: campaign!.id, contact_id: contact!.id, attempt_id: null, change: 'HandedOut', state: 'InProgress',
          user_id: a.userId, phone_index: 1, phone_number: '+4930123456', cause: null, result_code_id: null, appointment_at: null,
          comment: null, actor: 'dialler', reason: null, created_at: new Date(h.clock.now()),
        }]))}
        ${changedParties(ContactChange)}`.execute(h.store.db);
      await announceChanges(h.store.db, noticesOf(rows));
      for (const stream of [streamA, supervisor]) {
        const [m] = await stream.take(1);
        assert.equal(m!.event, 'contact');
        assert.deepEqual([m!.data.DiallerContactsID, m!.data.UsersID, m!.data.Change], [contact!.id, a.userId, 'HandedOut']);
      }
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await streamB.take(0), [], 'another agent does not see it');
    } finally {
      streamA.close();
      streamB.close();
      supervisor.close();
    }
  });

  it('resumes after Last-Event-ID with everything missed, once and in order', async () => {
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    await c.request('PUT', `${c.base}/agents/agent/${a.userId}/capacity`, { Capacity: { 5: 3 } });
    const first = await connect(`${origin}${c.base}/agents/me/stream`, a.token);
    const e1 = await newEvent(c, group);
    await pass(h);
    const [m1] = await first.take(1);
    assert.equal(m1!.data.AcdEventsID, e1);
    first.close();

    const e2 = await newEvent(c, group);
    const e3 = await newEvent(c, group);
    await pass(h);
    await act(a, e1, 'accept');
    const again = await connect(`${origin}${c.base}/agents/me/stream`, a.token, m1!.id);
    try {
      const missed = await again.take(3);
      assert.deepEqual(missed.map((m) => [m.data.AcdEventsID, m.data.ToAcdEventStatusID]), [[e2, 10], [e3, 10], [e1, 20]]);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(await again.take(0), [], 'nothing twice');
    } finally {
      again.close();
    }
    const fresh = await connect(`${origin}${c.base}/agents/me/stream`, a.token);
    await act(a, e1, 'seen');
    const [next] = await fresh.take(1);
    assert.equal(next!.data.ToAcdEventStatusID, 30, 'without Last-Event-ID a stream starts with what happens next');
    fresh.close();
  });

  it('streams that open while the feed grows each get exactly their own messages, once and in feed order', async () => {
    // One reader follows the feed for every stream (src/modules/push/hub.ts); each new stream
    // catches up on its own and joins it. Streams resume from a known message here, so that what
    // each must receive can be read from the feed afterwards.
    const tenants: { c: Awaited<ReturnType<typeof h.newClient>>; group: number; agents: Awaited<ReturnType<typeof readyAgent>>[]; first: string }[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await h.newClient({ TimeZone: i === 0 ? 'UTC' : 'Asia/Tokyo' });
      const group = await standaloneGroup(c);
      const agents = [await readyAgent(h, c, group), await readyAgent(h, c, group)];
      await newEvent(c, group);
      await pass(h);
      const first = await h.store.db.selectFrom('push_messages').select('id').where('client_id', '=', c.id).orderBy('id').executeTakeFirstOrThrow();
      tenants.push({ c, group, agents, first: String(first.id) });
    }
    const opened: { stream: Awaited<ReturnType<typeof connect>>; clientId: number; agentId?: number; from: string }[] = [];
    const open = async (t: (typeof tenants)[number], agent?: (typeof t.agents)[number]) => {
      const path = agent ? '/agents/me/stream' : '/supervisor/stream';
      const stream = await connect(`${origin}${t.c.base}${path}`, agent ? agent.token : t.c.token, t.first);
      opened.push({ stream, clientId: t.c.id, agentId: agent?.userId, from: t.first });
    };
    try {
      await open(tenants[0]!);
      for (let round = 0; round < 6; round++) {
        // Creates, offers and accepts of both tenants run while streams open.
        const t = tenants[round % 2]!;
        await Promise.all([
          ...tenants.flatMap((x) => [newEvent(x.c, x.group), newEvent(x.c, x.group), newEvent(x.c, x.group)]),
          open(t, t.agents[round % 2]),
          open(t),
          open(tenants[(round + 1) % 2]!, round < 3 ? undefined : tenants[(round + 1) % 2]!.agents[round % 2]),
        ]);
        await pass(h);
        for (const tenant of tenants) {
          for (const a of tenant.agents) {
            const inbox = (await a.request('GET', '/agents/me/events')).json().records as { ID: number; AcdEventStatusID: number }[];
            for (const e of inbox.filter((x) => x.AcdEventStatusID === 10)) await act(a, e.ID, 'accept');
          }
        }
      }
      for (const { stream, clientId, agentId, from } of opened) {
        let feed = h.store.db.selectFrom('push_messages as m')
          .select(['m.id'])
          .where('m.client_id', '=', clientId)
          .where(sql<boolean>`(m.xid, m.id) > (SELECT xid, id FROM push_messages WHERE id = ${from}::bigint)`)
          .orderBy('m.xid').orderBy('m.id');
        if (agentId !== undefined) feed = feed.where('m.agent_id', '=', agentId);
        const expected = (await feed.execute()).map((r) => String(r.id));
        assert.ok(expected.length > 0);
        const got = (await stream.take(expected.length)).map((m) => m.id);
        assert.deepEqual(got, expected, `stream of client ${clientId}${agentId ? ` agent ${agentId}` : ''}`);
        await new Promise((r) => setTimeout(r, 50));
        assert.deepEqual(await stream.take(0), [], 'nothing twice, nothing of others');
      }
    } finally {
      for (const { stream } of opened) stream.close();
    }
  });

  it('keeps messages 48 hours: a day-old one is still resumed from, older ones are swept', async () => {
    h.clock.set(Date.UTC(2026, 6, 1, 8, 0, 0));
    const c = await h.newClient({ TimeZone: 'UTC' });
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const first = await newEvent(c, group);
    await pass(h);
    const mark = await h.store.db.selectFrom('push_messages').select((eb) => eb.fn.max('id').as('id')).where('client_id', '=', c.id).executeTakeFirstOrThrow();
    assert.equal((await act(a, first, 'accept')).statusCode, 200);
    h.clock.set(Date.UTC(2026, 6, 2, 8, 0, 0)); // a day later
    await deleteExpired(h.store.db, new Date(h.clock.now()));
    const kept = await h.store.db.selectFrom('push_messages').select('id').where('client_id', '=', c.id).where('created_at', '<', new Date(Date.UTC(2026, 6, 1, 8, 0, 1))).execute();
    assert.ok(kept.length >= 3, 'a day-old message is kept');
    // (The agent's 12 h session has run out by now; the supervisor resumes.)
    const resumed = await connect(`${origin}${c.base}/supervisor/stream`, c.token, String(mark.id));
    try {
      assert.equal(resumed.status, 200, resumed.body);
      const [accepted] = await resumed.take(1);
      assert.equal(accepted!.data.ToAcdEventStatusID, 20);
    } finally {
      resumed.close();
    }
    h.clock.set(Date.UTC(2026, 6, 3, 8, 0, 1)); // 48 h after the first messages
    assert.ok(await deleteExpired(h.store.db, new Date(h.clock.now())) >= kept.length);
    const left = await h.store.db.selectFrom('push_messages').select('id').where('client_id', '=', c.id).where('created_at', '<', new Date(Date.UTC(2026, 6, 1, 8, 0, 1))).execute();
    assert.deepEqual(left, []);
  });

  it('refuses a malformed Last-Event-ID (400) and the wrong kind of token (403)', async () => {
    const c = await h.newClient();
    const group = await standaloneGroup(c);
    const a = await readyAgent(h, c, group);
    const bad = await connect(`${origin}${c.base}/agents/me/stream`, a.token, 'abc');
    assert.equal(bad.status, 400);
    assert.match(bad.body!, /Last-Event-ID/);
    assert.equal((await connect(`${origin}${c.base}/agents/me/stream`, c.token)).status, 403);
    assert.equal((await connect(`${origin}${c.base}/supervisor/stream`, a.token)).status, 403);
    assert.equal((await connect(`${origin}${c.base}/supervisor/stream`, 'nope')).status, 401);
  });
});

// Two instances on one PostgreSQL: a change made through one reaches a stream held by the other.
if (process.env.TEST_DATABASE_URL) {
  describeStores('live push across instances', (h) => {
    if (h.kind !== 'postgres') return;
    let second: FastifyInstance;
    let origin = '';
    let closeSecond: () => Promise<void>;
    before(async () => {
      const { rows } = await (await import('kysely')).sql<{ db: string }>`SELECT current_database() AS db`.execute(h.store.db);
      const url = new URL(process.env.TEST_DATABASE_URL!);
      url.pathname = `/${rows[0]!.db}`;
      const store = await openStore({ databaseUrl: url.toString(), poolSize: 4 });
      second = await build({ store, clock: h.clock });
      await second.listen({ port: 0, host: '127.0.0.1' });
      origin = `http://127.0.0.1:${(second.server.address() as { port: number }).port}`;
      closeSecond = async () => {
        await second.close();
        await store.close();
      };
    });
    after(async () => closeSecond?.());

    it('delivers a message held back by a transaction elsewhere on the server soon after that ends, not at the next poll', async () => {
      // A transaction in another database of the server holds the xmin horizon the streams read
      // behind; once it ends, the notice's retries (growing to 800 ms) find the message, where
      // three quick tries and then the 2 s poll left it waiting for up to 2 s. Three rounds: the
      // poll alone would be in time in each with a chance of one half at most.
      const c = await h.newClient({ TimeZone: 'UTC' });
      const group = await standaloneGroup(c);
      const stream = await connect(`${origin}${c.base}/supervisor/stream`, c.token);
      const holder = new (await import('pg')).default.Client({ connectionString: process.env.TEST_DATABASE_URL });
      await holder.connect();
      try {
        for (let round = 0; round < 3; round++) {
          await holder.query('BEGIN');
          await holder.query('SELECT txid_current()');
          const started = Date.now();
          const id = await newEvent(c, group);
          await new Promise((r) => setTimeout(r, 300));
          await holder.query('COMMIT');
          const [created] = await stream.take(1);
          assert.equal(created!.data.AcdEventsID, id);
          assert.ok(Date.now() - started < 1000, `round ${round}: delivered ${Date.now() - started} ms after the create`);
        }
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        await holder.end();
        stream.close();
      }
    });

    it('delivers through NOTIFY to a stream on the other instance', async () => {
      const c = await h.newClient({ TimeZone: 'UTC' });
      const group = await standaloneGroup(c);
      const a = await readyAgent(h, c, group);
      const stream = await connect(`${origin}${c.base}/supervisor/stream`, c.token);
      try {
        const started = Date.now();
        const id = await newEvent(c, group);
        const [created] = await stream.take(1);
        assert.deepEqual([created!.data.AcdEventsID, created!.data.ToAcdEventStatusID], [id, 1]);
        assert.ok(Date.now() - started < 1500, 'woken by NOTIFY, not by the 2 s poll');
      } finally {
        stream.close();
      }
      // An agent's stream wakes on the notifications naming that agent.
      const mine = await connect(`${origin}${c.base}/agents/me/stream`, a.token);
      try {
        await new Promise((r) => setTimeout(r, 100));
        const started = Date.now();
        await pass(h);
        const [offer] = await mine.take(1);
        assert.equal(offer!.data.ToAcdEventStatusID, 10);
        assert.ok(Date.now() - started < 1500, 'woken by NOTIFY, not by the 2 s poll');
      } finally {
        mine.close();
      }
    });
  });
}

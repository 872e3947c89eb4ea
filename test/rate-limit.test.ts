// Issue 11, item 8: request limits per client (429, Retry-After, the IETF RateLimit fields), the
// agent login throttled by address and by UID alike for UIDs that exist and UIDs that do not,
// and limits that hold across instances sharing one PostgreSQL.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { build } from '../src/app.ts';
import { LIMIT_DEFAULTS, loadConfig, type LimitSettings } from '../src/config.ts';
import { openStore, type Store } from '../src/db/store.ts';
import { Allowances, MemoryLedger, type Ledger } from '../src/modules/limits/allowance.ts';
import { createClient } from '../src/modules/clients/service.ts';
import { clientHandle, openTestStore, storeKinds, type TestClient } from './helper.ts';
import { createUser } from './fixtures-groups.ts';
import { PASSWORD, setPassword } from './fixtures-agents.ts';

const LIMITS: LimitSettings = { clientMax: 5, clientWindowMs: 60_000, loginPerAddress: 100, loginPerUid: 3, loginWindowMs: 600_000 };

let seq = 0;
async function newClient(store: Store, app: FastifyInstance): Promise<TestClient> {
  const { ClientsID, Token } = await createClient(store.db, { Name: `Limits ${process.pid}-${++seq}-${Math.random()}` });
  return clientHandle(app, ClientsID, Token);
}

function loginFrom(app: FastifyInstance, c: TestClient, UID: string, Password: string, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: `${c.base}/agents/login`, payload: { UID, Password }, remoteAddress });
}

function assertWithin(value: string | string[] | number | undefined, low: number, high: number, what: string): void {
  const n = Number(value);
  assert.ok(Number.isInteger(n) && n >= low && n <= high, `${what}: ${value} not in ${low}..${high}`);
}

/** What a caller can tell from an answer, less the seconds left (they tick). */
function observable(res: LightMyRequestResponse) {
  return {
    status: res.statusCode,
    body: res.body.replace(/\d+ s/, 'N s'),
    limit: res.headers['ratelimit-limit'],
    remaining: res.headers['ratelimit-remaining'],
    hasRetryAfter: 'retry-after' in res.headers,
  };
}

async function userWithPassword(c: TestClient, uid: string): Promise<void> {
  const user = await createUser(c, { UID: uid });
  assert.equal((await setPassword(c, user.ID, PASSWORD)).statusCode, 200);
}

for (const kind of storeKinds()) {
  describe(`request limits [${kind}]`, () => {
    let store: Store;
    let dispose: () => Promise<void>;
    const apps: FastifyInstance[] = [];
    const appWith = async (limits: LimitSettings, on: Store = store) => {
      const app = await build({ store: on, limits });
      await app.ready();
      apps.push(app);
      return app;
    };
    before(async () => {
      ({ store, dispose } = await openTestStore(kind));
    });
    after(async () => {
      for (const app of apps) await app.close();
      await dispose();
    });

    it('answers 429 with Retry-After and the RateLimit fields once a client has spent its requests; other clients go on', async () => {
      const app = await appWith(LIMITS);
      const c = await newClient(store, app);
      for (let i = 1; i <= 5; i++) {
        const res = await c.get('/acd/groups');
        assert.equal(res.statusCode, 200, res.body);
        assert.equal(res.headers['ratelimit-limit'], '5');
        assert.equal(res.headers['ratelimit-remaining'], String(5 - i));
        assertWithin(res.headers['ratelimit-reset'], 1, 60, 'RateLimit-Reset');
      }
      const refused = await c.get('/acd/groups');
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().status, 429);
      assert.match(refused.json().error, /^Too many requests for this client; retry in \d+ s$/);
      assertWithin(refused.headers['retry-after'], 1, 60, 'Retry-After');
      assert.equal(refused.headers['ratelimit-remaining'], '0');
      assert.equal(refused.headers['ratelimit-limit'], '5');
      const other = await newClient(store, app);
      assert.equal((await other.get('/acd/groups')).statusCode, 200);
    });

    it('counts only authenticated requests, so a stranger cannot spend a client\'s allowance', async () => {
      const app = await appWith(LIMITS);
      const c = await newClient(store, app);
      for (let i = 0; i < 10; i++) {
        const res = await c.request('GET', '/acd/groups', undefined, { authorization: 'Bearer not-the-token' });
        assert.equal(res.statusCode, 401);
      }
      const res = await c.get('/acd/groups');
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['ratelimit-remaining'], '4');
    });

    it('turns a limit of 0 off', async () => {
      const app = await appWith({ ...LIMITS, clientMax: 0, loginPerUid: 0, loginPerAddress: 0 });
      const c = await newClient(store, app);
      for (let i = 0; i < 8; i++) {
        const res = await c.get('/acd/groups');
        assert.equal(res.statusCode, 200);
        assert.equal(res.headers['ratelimit-limit'], undefined);
      }
      for (let i = 0; i < 5; i++) assert.equal((await loginFrom(app, c, 'nobody', 'wrong password')).statusCode, 401);
    });

    it('throttles logins per UID the same way whether the UID exists or not, correct password or not', async () => {
      const app = await appWith(LIMITS);
      const c = await newClient(store, app);
      await userWithPassword(c, 'dora');
      await userWithPassword(c, 'emil');
      const attempts = async (uid: string) => {
        const seen = [];
        for (let i = 0; i < 3; i++) seen.push(await loginFrom(app, c, uid, 'wrong password'));
        // Past the limit even the right password is refused: a 429 must not turn into a 200.
        seen.push(await loginFrom(app, c, uid, PASSWORD), await loginFrom(app, c, uid, 'wrong password'));
        return seen;
      };
      const known = await attempts('dora');
      const unknown = await attempts('nobody');
      assert.deepEqual(known.map((r) => r.statusCode), [401, 401, 401, 429, 429]);
      assert.deepEqual(known.map(observable), unknown.map(observable));
      const refused = known[3];
      assert.match(refused.json().error, /^Too many login attempts; retry in \d+ s$/);
      assertWithin(refused.headers['retry-after'], 1, 600, 'Retry-After');
      assert.equal(refused.headers['ratelimit-limit'], '3');
      // Another UID is not concerned, and successful logins do not count.
      for (let i = 0; i < 5; i++) assert.equal((await loginFrom(app, c, 'emil', PASSWORD)).statusCode, 200);
    });

    it('throttles failed logins per address, whatever the UIDs; successful ones do not count', async () => {
      const app = await appWith({ ...LIMITS, loginPerAddress: 3, loginPerUid: 100 });
      const c = await newClient(store, app);
      await userWithPassword(c, 'fritz');
      for (let i = 0; i < 3; i++) assert.equal((await loginFrom(app, c, `guess${i}`, 'x', '203.0.113.7')).statusCode, 401);
      const refused = await loginFrom(app, c, 'guess3', 'x', '203.0.113.7');
      assert.equal(refused.statusCode, 429);
      assertWithin(refused.headers['retry-after'], 1, 600, 'Retry-After');
      assert.equal((await loginFrom(app, c, 'fritz', PASSWORD, '203.0.113.7')).statusCode, 429);
      assert.equal((await loginFrom(app, c, 'guess4', 'x', '203.0.113.8')).statusCode, 401);
      for (let i = 0; i < 6; i++) assert.equal((await loginFrom(app, c, 'fritz', PASSWORD, '203.0.113.9')).statusCode, 200);
    });

    it('takes the address from X-Forwarded-For only behind a trusted proxy', async () => {
      const limits = { ...LIMITS, loginPerAddress: 1, loginPerUid: 100 };
      const proxied = await build({ store, limits, trustProxy: true });
      apps.push(proxied);
      const c = await newClient(store, proxied);
      const via = (app: FastifyInstance, forwarded: string) => app.inject({
        method: 'POST', url: `${c.base}/agents/login`, payload: { UID: 'x', Password: 'y' }, remoteAddress: '10.0.0.2',
        headers: { 'x-forwarded-for': forwarded },
      });
      assert.equal((await via(proxied, '198.51.100.7')).statusCode, 401);
      assert.equal((await via(proxied, '198.51.100.7')).statusCode, 429);
      assert.equal((await via(proxied, '198.51.100.8')).statusCode, 401);
      const direct = await appWith(limits);
      assert.equal((await via(direct, '198.51.100.9')).statusCode, 401);
      assert.equal((await via(direct, '198.51.100.10')).statusCode, 429, 'untrusted, the header names nobody');
    });

    it('counts a parallel burst of logins as it starts, before any hash is computed', async () => {
      const app = await appWith({ ...LIMITS, loginPerAddress: 4, loginPerUid: 100 });
      const c = await newClient(store, app);
      const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => loginFrom(app, c, `burst${i}`, 'x', '198.51.100.1')));
      const statuses = burst.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [...Array(4).fill(401), ...Array(8).fill(429)]);
    });

    if (kind === 'postgres') {
      it('holds across two instances on one database', async () => {
        const { rows } = await sql<{ db: string }>`SELECT current_database() AS db`.execute(store.db);
        const url = new URL(process.env.TEST_DATABASE_URL!);
        url.pathname = `/${rows[0]!.db}`;
        const other = await openStore({ databaseUrl: url.toString(), poolSize: 2, migrate: false });
        try {
          const limits = { ...LIMITS, clientMax: 10 };
          const a = await appWith(limits);
          const b = await appWith(limits, other);
          const onA = await newClient(store, a);
          const onB = clientHandle(b, onA.id, onA.token);
          for (let i = 0; i < 6; i++) assert.equal((await onA.get('/acd/groups')).statusCode, 200);
          for (let i = 0; i < 4; i++) assert.equal((await onB.get('/acd/groups')).statusCode, 200);
          assert.equal((await onB.get('/acd/groups')).statusCode, 429);
          assert.equal((await onA.get('/acd/groups')).statusCode, 429);

          // A burst spread over both instances: exactly the limit gets through.
          const burstA = await newClient(store, a);
          const burstB = clientHandle(b, burstA.id, burstA.token);
          const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? burstA : burstB).get('/acd/groups')));
          assert.equal(answers.filter((r) => r.statusCode === 200).length, 10);
          assert.equal(answers.filter((r) => r.statusCode === 429).length, 20);

          // The login throttle too.
          const target = await newClient(store, a);
          await userWithPassword(target, 'greta');
          const targetOnB = clientHandle(b, target.id, target.token);
          assert.equal((await loginFrom(a, target, 'greta', 'wrong')).statusCode, 401);
          assert.equal((await loginFrom(b, targetOnB, 'greta', 'wrong')).statusCode, 401);
          assert.equal((await loginFrom(a, target, 'greta', 'wrong')).statusCode, 401);
          assert.equal((await loginFrom(b, targetOnB, 'greta', PASSWORD)).statusCode, 429);
        } finally {
          await other.close();
        }
      });

      it('does not reach the database on every request: a client\'s requests lease slices of the limit', async () => {
        const app = await appWith(LIMIT_DEFAULTS);
        const c = await newClient(store, app);
        for (let i = 0; i < 50; i++) assert.equal((await c.get('/acd/groups')).statusCode, 200);
        // One lease of a twentieth of the limit served them all: a second would have added another.
        const { rows } = await sql<{ hits: number }>`SELECT hits FROM rate_limits WHERE key = ${`client:${c.id}`}`.execute(store.db);
        assert.deepEqual(rows, [{ hits: LIMIT_DEFAULTS.clientMax / 20 }]);
      });
    }
  });
}

describe('limits configuration', () => {
  it('reads the limits and the trusted proxies from the environment', () => {
    assert.deepEqual(loadConfig({}).limits, LIMIT_DEFAULTS);
    assert.equal(loadConfig({}).trustProxy, false);
    const c = loadConfig({
      SWITCHBOARD_RATE_LIMIT: '0', SWITCHBOARD_RATE_LIMIT_WINDOW_MS: '1000', SWITCHBOARD_LOGIN_LIMIT_PER_ADDRESS: '7',
      SWITCHBOARD_LOGIN_LIMIT_PER_UID: '2', SWITCHBOARD_LOGIN_LIMIT_WINDOW_MS: '30000', SWITCHBOARD_TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
    });
    assert.deepEqual(c.limits, { clientMax: 0, clientWindowMs: 1000, loginPerAddress: 7, loginPerUid: 2, loginWindowMs: 30000 });
    assert.equal(c.trustProxy, '10.0.0.0/8,127.0.0.1');
    assert.equal(loadConfig({ SWITCHBOARD_TRUST_PROXY: 'true' }).trustProxy, true);
    const hops = loadConfig({ SWITCHBOARD_TRUST_PROXY: '2' }).trustProxy as (address: string, hop: number) => boolean;
    assert.deepEqual([0, 1, 2].map((hop) => hops('10.0.0.1', hop)), [true, true, false]);
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMIT_WINDOW_MS: '0' }), /SWITCHBOARD_RATE_LIMIT_WINDOW_MS must be at least 1/);
    assert.throws(() => loadConfig({ SWITCHBOARD_RATE_LIMIT: 'lots' }), /SWITCHBOARD_RATE_LIMIT must be a non-negative integer/);
  });
});

describe('allowances leased from a shared ledger', () => {
  /** A ledger that counts its leases. */
  function counting(ledger: Ledger): Ledger & { leases: number } {
    const counted = {
      leases: 0,
      lease: (request: Parameters<Ledger['lease']>[0]) => {
        counted.leases++;
        return ledger.lease(request);
      },
      giveBack: (key: string, window: number) => ledger.giveBack(key, window),
      close: () => ledger.close(),
    };
    return counted;
  }

  it('admits exactly the limit on one instance, leasing a twentieth at a time', async () => {
    const ledger = counting(new MemoryLedger());
    const one = new Allowances(ledger);
    let admitted = 0;
    for (let i = 0; i < 300; i++) if ((await one.take('k', 200, 60_000)).admitted) admitted++;
    assert.equal(admitted, 200);
    // Slices of 10 while far from the limit, smaller near it; nowhere near one per request.
    assert.ok(ledger.leases <= 40, `${ledger.leases} leases`);
  });

  it('never admits more than the limit across instances, and at most a slice per other instance fewer', async () => {
    const ledger = new MemoryLedger();
    const instances = [new Allowances(ledger), new Allowances(ledger), new Allowances(ledger)];
    let admitted = 0;
    // Traffic that moves between instances: each leaves part of its slice unspent.
    for (let i = 0; i < 400; i++) {
      const instance = instances[i < 30 ? i % 3 : i < 200 ? 0 : 1 + (i % 2)]!;
      if ((await instance.take('k', 200, 60_000)).admitted) admitted++;
    }
    assert.ok(admitted <= 200, `${admitted} admitted`);
    assert.ok(admitted >= 200 - 2 * 10, `${admitted} admitted`);
  });

  it('keeps a new key\'s tally when the map is swept as it is added: one lease serves its requests', async () => {
    const ledger = counting(new MemoryLedger());
    const allowances = new Allowances(ledger);
    // Fill the map up to the sweep threshold with keys whose windows are open.
    for (let i = 0; i < 999; i++) await allowances.take(`filler ${i}`, 200, 60_000);
    const before = ledger.leases;
    const burst = await Promise.all(Array.from({ length: 5 }, () => allowances.take('new key', 200, 60_000)));
    assert.ok(burst.every((v) => v.admitted));
    assert.equal(ledger.leases - before, 1, 'the first request\'s lease serves the rest of its slice');
    assert.equal(burst.at(-1)!.remaining, 195);
  });

  it('starts over when the window ends, and gives back what a success returns', async () => {
    let now = 60_000 * 1000 + 20_000;
    const clock = () => now;
    const allowances = new Allowances(new MemoryLedger(clock), clock);
    for (let i = 0; i < 3; i++) assert.equal((await allowances.take('k', 3, 60_000)).admitted, true);
    const refused = await allowances.take('k', 3, 60_000);
    assert.equal(refused.admitted, false);
    assert.equal(refused.resetInMs, 40_000);
    allowances.giveBack('k');
    assert.equal((await allowances.take('k', 3, 60_000)).admitted, true);
    assert.equal((await allowances.take('k', 3, 60_000)).admitted, false);
    now += 40_000;
    const next = await allowances.take('k', 3, 60_000);
    assert.equal(next.admitted, true);
    assert.equal(next.remaining, 2);
  });
});

// Issue 11 item 4: bad input that used to reach a 5xx, or no answer at all. Bodies nested without
// limit, invalid UTF-8, timestamp filters that can never match, HEAD on the event streams, and
// what Node's HTTP layer refuses (malformed requests, oversized headers, 413 mid-upload, 503 while
// closing), each answered `{status, error}` with the right status, over a real socket where only
// a socket shows it.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN, describeStores, type TestClient } from './helper.ts';
import { newAgent } from './fixtures-agents.ts';
import { snapshot } from './fixtures-properties.ts';
import { build } from '../src/app.ts';
import { MAX_BODY_DEPTH } from '../src/http/json-body.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** The HTTP/1.1 answers in `raw`, in order (Content-Length framed, or up to the end). */
function parseAnswers(raw: string): Answer[] {
  const answers: Answer[] = [];
  let rest = raw;
  while (rest.startsWith('HTTP/1.1 ')) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const length = headers['content-length'] === undefined ? rest.length - end - 4 : Number(headers['content-length']);
    answers.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return answers;
}

/**
 * Sends `parts` over a new connection (with `gapMs` between them) and reads only after the last,
 * as a simple client does, until the server closes or `waitMs` passes. `failed`: the client's
 * write error, if any (a reset while it was still sending).
 */
async function exchange(port: number, parts: (string | Buffer)[], opts: { gapMs?: number; waitMs?: number } = {}): Promise<{ raw: string; failed: string }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.pause();
  let failed = '';
  socket.on('error', (error: NodeJS.ErrnoException) => {
    failed ||= error.code ?? error.message;
  });
  await new Promise((resolve) => socket.once('connect', resolve));
  for (const part of parts) {
    if (failed || socket.destroyed) break;
    socket.write(part);
    if (opts.gapMs) await sleep(opts.gapMs);
  }
  let raw = '';
  socket.on('data', (chunk: Buffer) => {
    raw += chunk.toString('latin1');
  });
  socket.resume();
  await new Promise((resolve) => {
    socket.once('close', resolve);
    setTimeout(resolve, opts.waitMs ?? 3000);
  });
  socket.destroy();
  return { raw, failed };
}

/** One answer in the wire format: JSON `{status, error}` whose status is the HTTP status. */
function assertWire(answer: Answer | undefined, status: number, where: string): Record<string, unknown> {
  assert.ok(answer, `no answer: ${where}`);
  assert.equal(answer.status, status, `${where}: ${answer.status} ${answer.body}`);
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/, where);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  assert.equal(body.status, status, where);
  assert.ok(typeof body.error === 'string' && body.error.length > 0, where);
  return body;
}

describeStores('input hardening', (h) => {
  let c: TestClient;
  let port: number;
  const extra: FastifyInstance[] = [];
  before(async () => {
    c = await h.newClient({ TimeZone: 'UTC' });
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    port = (h.app.server.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const app of extra) await app.close();
  });

  it(`refuses a body nested deeper than ${MAX_BODY_DEPTH} levels with 400 on every JSON route, unauthenticated login included`, async () => {
    const doc = h.app.swagger() as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    const deep = nested(10_000);
    assert.ok(deep.length === 20_000);
    const agent = await newAgent(h, c);
    let routes = 0;
    for (const [template, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        if (!operation.requestBody?.content['application/json']) continue;
        routes++;
        const url = template.replace('{ClientsID}', String(c.id)).replace(/\{[^}]+\}/g, '1');
        const admin = !template.includes('{ClientsID}');
        const token = template.endsWith('/agents/login') ? undefined : admin ? ADMIN_TOKEN : template.includes('/agents/me/') ? agent.token : c.token;
        const res = await h.app.inject({
          method: method.toUpperCase() as 'POST', url, payload: deep,
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        });
        assert.deepEqual([res.statusCode, res.json()], [400, { status: 400, error: `Request body nests arrays and objects deeper than ${MAX_BODY_DEPTH} levels` }], `${method} ${url}`);
      }
    }
    assert.ok(routes >= 20, `only ${routes} routes with a body`);
  });

  it('counts nesting outside strings only, and lets the limit itself through to validation', async () => {
    const post = (payload: string) => c.request('POST', '/acd/groups/create', payload, { 'content-type': 'application/json' });
    const atLimit = await post(`{"Name":${nested(MAX_BODY_DEPTH - 1)}}`);
    assert.equal(atLimit.statusCode, 400);
    assert.match(atLimit.json().error, /^Invalid body: Name/);
    assert.match((await post(`{"Name":${nested(MAX_BODY_DEPTH)}}`)).json().error, /deeper than 64 levels/);
    const bracketed = await post(JSON.stringify({ Name: `A${'[{'.repeat(100)}\\"[` }));
    assert.equal(bracketed.statusCode, 200, bracketed.body);
  });

  it('refuses a body that is not valid UTF-8 (400) instead of storing U+FFFD, and stores real UTF-8 exactly', async () => {
    const before = await snapshot(h.store.db, c.id);
    for (const bad of [[0xff, 0xfe], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xe2, 0x82]]) {
      const body = Buffer.concat([Buffer.from('{"Name":"Zur'), Buffer.from(bad), Buffer.from('ich"}')]);
      const res = await c.request('POST', '/acd/groups/create', body, { 'content-type': 'application/json' });
      assert.deepEqual([res.statusCode, res.json()], [400, { status: 400, error: 'Request body is not valid UTF-8' }], Buffer.from(bad).toString('hex'));
    }
    assert.equal(await snapshot(h.store.db, c.id), before, 'nothing stored');
    const good = await c.request('POST', '/acd/groups/create', Buffer.from('{"Name":"Zürich 🎧"}'), { 'content-type': 'application/json' });
    assert.equal(good.statusCode, 200, good.body);
    assert.equal(good.json().records[0].Name, 'Zürich 🎧');
  });

  it('answers 400 naming the field for a timestamp filter that can never match (?dtCreated=abc)', async () => {
    for (const list of ['/acd/events', '/users', '/acd/groups', '/dialler/campaigns']) {
      for (const value of ['abc', '2026-06-15', '2026-06-15T10:00:00', '2026-02-30T10:00:00.000', '2026-06-15T24:00:00.000']) {
        const res = await c.get(`${list}?dtCreated=${value}`);
        assert.equal(res.statusCode, 400, `${list}?dtCreated=${value}: ${res.body}`);
        assert.match(res.json().error, /dtCreated/);
        assert.equal(res.json().details[0].field, 'dtCreated');
      }
      const fine = await c.get(`${list}?dtCreated=2026-06-15T08:00:00.000`);
      assert.equal(fine.statusCode, 200, `${list}: ${fine.body}`);
    }
  });

  it('answers HEAD on both event streams with the stream headers and no body, at once', async () => {
    const agent = await newAgent(h, c);
    for (const [path, token] of [['/agents/me/stream', agent.token], ['/supervisor/stream', c.token]]) {
      const request = `HEAD ${c.base}${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
      const { raw } = await exchange(port, [request], { waitMs: 5000 });
      const [answer] = parseAnswers(raw);
      assert.ok(answer, `HEAD ${path}: no answer`);
      assert.equal(answer.status, 200, raw);
      assert.match(answer.headers['content-type'] ?? '', /^text\/event-stream/);
      assert.equal(answer.headers['content-length'], undefined, 'no length a GET would not have');
      assert.equal(answer.body, '');
    }
    const { raw } = await exchange(port, [`HEAD ${c.base}/supervisor/stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`]);
    assert.equal(parseAnswers(raw)[0]?.status, 401, 'HEAD checks the token like GET');
  });

  it('answers what the HTTP parser refuses in the wire format, with the right status', async () => {
    const cases: [string, string, number][] = [
      ['malformed request line', 'GARBAGE\r\n\r\n', 400],
      ['space in the path', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n', 400],
      ['unknown HTTP version', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', 400],
      ['Content-Length not a number', 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400],
      ['Content-Length twice', 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab', 400],
      ['Content-Length and chunked', 'POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
      ['chunked not last', 'POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 400],
      ['malformed chunk', 'POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
      ['malformed header', 'GET /health HTTP/1.1\r\nHo st: x\r\n\r\n', 400],
      ['no Host', 'GET /health HTTP/1.1\r\n\r\n', 400],
      ['oversized headers', `GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: ${'a'.repeat(64 * 1024)}\r\n\r\n`, 431],
    ];
    for (const [what, request, status] of cases) {
      const { raw } = await exchange(port, [request]);
      assertWire(parseAnswers(raw)[0], status, what);
    }
  });

  it('lets a 413 arrive at a client that sends its whole body before reading, by Content-Length or chunked', async () => {
    const small = await build({ store: h.store, clock: h.clock, bodyLimit: 1024 });
    extra.push(small);
    await small.listen({ port: 0, host: '127.0.0.1' });
    const smallPort = (small.server.address() as net.AddressInfo).port;
    const head = `POST ${c.base}/acd/groups/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\nContent-Type: application/json\r\n`;
    const piece = 'x'.repeat(16 * 1024);
    const pieces = 16;
    const bodies: [string, (string | Buffer)[]][] = [
      ['Content-Length', [`${head}Content-Length: ${pieces * piece.length}\r\n\r\n`, ...Array.from({ length: pieces }, () => piece)]],
      ['chunked', [`${head}Transfer-Encoding: chunked\r\n\r\n`, ...Array.from({ length: pieces }, () => `4000\r\n${piece}\r\n`), '0\r\n\r\n']],
    ];
    for (const [framing, parts] of bodies) {
      const { raw, failed } = await exchange(smallPort, parts, { gapMs: 20 });
      assert.equal(failed, '', `${framing}: the client's upload was cut off`);
      const body = assertWire(parseAnswers(raw)[0], 413, framing);
      assert.match(String(body.error), /larger than/);
    }
  });

  it('answers requests that arrive while the server closes with a 503 in the wire format', async () => {
    const closing = await build({ store: h.store, clock: h.clock });
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => { entered = resolve; });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    closing.get('/test/held', async () => {
      entered();
      await released;
      return { status: 200 };
    });
    await closing.listen({ port: 0, host: '127.0.0.1' });
    const socket = net.connect((closing.server.address() as net.AddressInfo).port, '127.0.0.1');
    let raw = '';
    socket.on('data', (chunk: Buffer) => {
      raw += chunk.toString('latin1');
    });
    const ended = new Promise((resolve) => socket.once('close', resolve));
    socket.write('GET /test/held HTTP/1.1\r\nHost: x\r\n\r\n');
    await inHandler;
    const closed = closing.close();
    await sleep(100);
    // Pipelined behind the held request on the same connection, so it arrives during the close.
    socket.write(`GET ${c.base}/acd/groups HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\n\r\n`);
    await sleep(100);
    release();
    await Promise.race([ended, sleep(5000)]);
    socket.destroy();
    await closed;
    const [held, late] = parseAnswers(raw);
    assert.equal(held?.status, 200, raw);
    assertWire(late, 503, 'request during the close');
    assert.equal(late!.headers.connection, 'close');
  });
});

// The route fuzzer shared by test/fuzz-routes.test.ts (a few hundred cases per store) and
// bench/fuzz.ts (tens of thousands): every operation of the OpenAPI document, called with path
// ids of real and odd objects, query strings and bodies generated from its schemas and then
// broken (fixtures-properties.ts), under the right credential or a wrong one. Each answer must
// come, be no 5xx, be `{status, error}` when it is an error, and a refused request must leave
// the client's data as it was.
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { ADMIN_TOKEN, type Harness } from './helper.ts';
import { newAgent, type TestAgent } from './fixtures-agents.ts';
import { logIn, newEvent } from './fixtures-distribution.ts';
import { addMember } from './fixtures-groups.ts';
import { bodyArb, bytes, edge, encodeText, jsonText, pathIdArb, seedTenant, snapshot, type Tenant, word } from './fixtures-properties.ts';

type Schema = Record<string, any>;

export interface Route {
  method: string;
  template: string;
  params: string[];
  query: [name: string, schema: Schema][];
  body: Schema | undefined;
  /** Media types the document declares for this operation's 2xx answers. */
  answers: string[];
}

/** Every operation of the document but the two event streams, whose answers never end by design. */
export function routesOf(app: FastifyInstance): Route[] {
  const doc = app.swagger() as { paths: Record<string, Record<string, { parameters?: Schema[]; requestBody?: Schema; responses?: Record<string, Schema> }>> };
  const routes: Route[] = [];
  for (const [template, operations] of Object.entries(doc.paths)) {
    if (template.endsWith('/stream')) continue;
    for (const [method, op] of Object.entries(operations)) {
      const parameters = op.parameters ?? [];
      routes.push({
        method: method.toUpperCase(), template,
        params: parameters.filter((p) => p.in === 'path').map((p) => p.name as string),
        query: parameters.filter((p) => p.in === 'query').map((p) => [p.name as string, p.schema as Schema]),
        body: op.requestBody?.content?.['application/json']?.schema,
        answers: Object.entries(op.responses ?? {}).filter(([code]) => code.startsWith('2')).flatMap(([, r]) => Object.keys(r.content ?? {})),
      });
    }
  }
  return routes;
}

export interface World {
  tenant: Tenant;
  agent: TestAgent;
  victimClientId: number;
  ids: Record<string, number[]>;
}

/** A tenant with a little of everything, an agent at work (an offer, an event in hand), and a second client. */
export async function seedWorld(h: Harness): Promise<World> {
  const tenant = await seedTenant(h);
  const agent = await workingAgent(h, tenant);
  const events = [];
  for (let i = 0; i < 3; i++) events.push(await newEvent(tenant.client, tenant.standaloneId));
  await h.app.distributor.runPass();
  const victim = await h.newClient();
  const groups = [tenant.standaloneId, tenant.agentId, tenant.configurationId];
  return {
    tenant, agent, victimClientId: victim.id,
    ids: {
      AcdGroupsID: groups, UsersID: [...tenant.userIds, agent.userId], DiallerCampaignsID: tenant.campaigns.map((c) => c.id),
      DiallerContactsID: tenant.contactIds, AcdEventsID: events, ClientsID: [tenant.client.id],
    },
  };
}

async function workingAgent(h: Harness, tenant: Tenant): Promise<TestAgent> {
  const agent = await newAgent(h, tenant.client);
  await addMember(tenant.client, tenant.standaloneId, agent.userId);
  await logIn(agent, tenant.standaloneId);
  return agent;
}

/** After a case logged the agent out, changed their password or deleted them: a new agent at work. */
async function keepAgent(h: Harness, world: World): Promise<void> {
  if ((await world.agent.request('GET', '/agents/me')).statusCode === 200) return;
  world.agent = await workingAgent(h, world.tenant);
  world.ids.UsersID!.push(world.agent.userId);
}

const INT_MIN = -2147483648, INT_MAX = 2147483647;

/** Values that fit `schema` most of the time (the ids of real objects where a name says id). */
function valueArb(schema: Schema, name: string, world: World): fc.Arbitrary<unknown> {
  if (schema.enum) return fc.constantFrom(...(schema.enum as unknown[]));
  if (schema.anyOf) return fc.oneof(...(schema.anyOf as Schema[]).map((s) => valueArb(s, name, world)));
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string];
  const nonNull = types.filter((t) => t !== 'null');
  const arbs = nonNull.map((t) => typedArb(t, schema, name, world));
  if (types.includes('null')) arbs.push(fc.constant(null));
  return arbs.length === 1 ? arbs[0] : fc.oneof(...arbs);
}

function typedArb(type: string, schema: Schema, name: string, world: World): fc.Arbitrary<unknown> {
  switch (type) {
    case 'integer':
    case 'number': {
      const min = Math.max(schema.minimum ?? INT_MIN, INT_MIN), max = Math.min(schema.maximum ?? INT_MAX, INT_MAX);
      const known = (world.ids[name] ?? []).filter((id) => id >= min && id <= max);
      const small = fc.integer({ min, max: Math.min(max, min + 100) });
      return fc.oneof(...(known.length ? [fc.constantFrom(...known)] : []), small, fc.integer({ min, max }));
    }
    case 'boolean':
      return fc.boolean();
    case 'string': {
      if (schema.format === 'email') return fc.constantFrom('anna@example.com', 'first.last+tag@sub.example.org');
      const max = Math.min(schema.maxLength ?? 40, 40);
      const plain = word.map((w) => w.slice(0, max)).filter((w) => w.length >= (schema.minLength ?? 0));
      if (!schema.pattern || ['^[^\\u0000]*$', '\\S'].includes(schema.pattern)) return plain;
      // Words fit the patterns of names (no blank edges); others (timestamps) get strings of their own.
      const re = new RegExp(schema.pattern as string, 'u');
      const matching = fc.stringMatching(re).map((text) => text.slice(0, schema.maxLength ?? 256));
      return re.test('Anna') ? fc.oneof(plain, matching) : matching;
    }
    case 'array':
      return fc.array(valueArb(schema.items ?? {}, name, world), { maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object':
      return objectArb(schema, world);
    default:
      return fc.jsonValue({ maxDepth: 1 });
  }
}

function objectArb(schema: Schema, world: World): fc.Arbitrary<Record<string, unknown>> {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const names = Object.keys(properties);
  if (names.length === 0 && schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return fc.dictionary(fc.integer({ min: 1, max: 50 }).map(String), valueArb(schema.additionalProperties as Schema, '', world), { maxKeys: 3 });
  }
  const record = Object.fromEntries(names.map((n) => [n, valueArb(properties[n], n, world)]));
  return fc.record(record, { requiredKeys: (schema.required ?? []) as string[] }) as fc.Arbitrary<Record<string, unknown>>;
}

/** Field paths a mutation may break: the top-level fields and one level into nested objects and arrays. */
function fieldPaths(schema: Schema): string[][] {
  const paths: string[][] = [];
  for (const [name, prop] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    paths.push([name]);
    const inner = prop.items?.properties ?? prop.properties;
    if (inner) for (const sub of Object.keys(inner as object)) paths.push(prop.items ? [name, '0', sub] : [name, sub]);
  }
  return paths.length ? paths : [['Extra']];
}

export interface Case {
  method: string;
  url: string;
  /** The URL as routed: whether an empty 404 (jtel's unknown endpoint) is allowed. */
  routed: boolean;
  /** The 2xx media types the document declares for the route. */
  answers: string[];
  headers: Record<string, string>;
  payload?: string | Buffer;
}

type Credential = 'right' | 'client' | 'agent' | 'admin' | 'none' | 'wrong';

function tokenOf(world: World, who: Credential, route: Route): string | undefined {
  if (who === 'right') {
    if (!route.template.includes('{ClientsID}')) return ADMIN_TOKEN;
    if (route.template.endsWith('/agents/login')) return undefined;
    return route.template.includes('/agents/me') ? world.agent.token : world.tenant.client.token;
  }
  return { client: world.tenant.client.token, agent: world.agent.token, admin: ADMIN_TOKEN, none: undefined, wrong: 'sbc_wrong' }[who];
}

function queryArb(route: Route, world: World): fc.Arbitrary<string> {
  if (route.query.length === 0) return fc.oneof({ weight: 9, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant('?extra=1') });
  const odd = fc.oneof(bytes, fc.constantFrom('', 'abc', '-1', '0', '1.5', '2147483648', 'true', 'null', '%00', 'x'.repeat(300)));
  const pair = fc.constantFrom(...route.query).chain(([name, schema]) => fc.oneof(
    { weight: 3, arbitrary: valueArb(schema, name, world).map((v) => `${name}=${encodeText(String(v))}`) },
    { weight: 1, arbitrary: odd.map((v) => `${name}=${v}`) },
  ));
  const extra = fc.constantFrom('extra=1', 'constructor=1', '__proto__=x');
  return fc.array(fc.oneof({ weight: 9, arbitrary: pair }, { weight: 1, arbitrary: extra }), { maxLength: 3 })
    .map((pairs) => (pairs.length ? `?${pairs.join('&')}` : ''));
}

const DEEP = '['.repeat(10_000) + ']'.repeat(10_000);

const bodyText = (route: Route, world: World): fc.Arbitrary<string | Buffer | undefined> => {
  if (!route.body) return fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant('{}') }, { weight: 1, arbitrary: fc.constant('{"x":1}') });
  const values = fc.oneof(edge, fc.constantFrom(...Object.values(world.ids).flat(), world.victimClientId, 999_999));
  const bodies = bodyArb(objectArb(route.body, world), fieldPaths(route.body), values);
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(bodies, fc.boolean()).map(([b, cut]) => jsonText(b, cut && Math.random() < 0.1)) },
    // Not JSON, invalid UTF-8, and nesting deep enough to overflow any recursive walk of it.
    { weight: 2, arbitrary: fc.constantFrom<string | Buffer>('', 'not json', '[', '{"a":1}{', Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]), DEEP, `{"Name":${DEEP}}`) },
  );
};

/** One request to `route`: credential, path ids, query and body, each right or wrong. */
export function caseArb(route: Route, world: World): fc.Arbitrary<Case> {
  const credential = fc.oneof({ weight: 12, arbitrary: fc.constant<Credential>('right') }, { weight: 1, arbitrary: fc.constantFrom<Credential>('client', 'agent', 'admin', 'none', 'wrong') });
  const params = fc.tuple(...route.params.map((name) => {
    if (name === 'ClientsID' && !route.template.startsWith('/rest/v1.0/{ClientsID}')) {
      // The admin's token rotation: the second client, never the tenant whose token the fuzzer uses.
      return fc.constantFrom(String(world.victimClientId), '0', '-1', '999999', '0x1', '%00');
    }
    const ids = world.ids[name] ?? [1];
    return fc.oneof({ weight: name === 'ClientsID' ? 12 : 3, arbitrary: fc.constantFrom(...ids.map(String)) }, { weight: 1, arbitrary: pathIdArb([...ids, world.victimClientId]) });
  }));
  const contentType = fc.oneof({ weight: 12, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/xml', '') });
  return fc.record({ credential, params, query: queryArb(route, world), body: bodyText(route, world), contentType }).map((r) => {
    let path = route.template;
    route.params.forEach((name, i) => { path = path.replace(`{${name}}`, r.params[i]!); });
    const token = tokenOf(world, r.credential, route);
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    if (r.body !== undefined && r.contentType) headers['content-type'] = r.contentType;
    const pattern = new RegExp(`^${route.template.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
    return { method: route.method, url: path + r.query, routed: pattern.test(path), answers: route.answers, headers, payload: r.body };
  });
}

export interface Outcome {
  status: number | undefined;
  /** What broke a rule; empty when the answer keeps them all. */
  problems: string[];
}

/** Sends the case and checks the wire rules; `digest` is the client's data before it, updated after. */
export async function runCase(h: Harness, world: World, c: Case, state: { digest?: string }, timeoutMs = 10_000): Promise<Outcome> {
  const clientId = world.tenant.client.id;
  const where = `${c.method} ${c.url} ${c.headers['content-type'] ?? ''} ${typeof c.payload === 'string' ? c.payload.slice(0, 300) : c.payload?.toString('hex') ?? ''}`;
  const digests = async () => [await snapshot(h.store.db, clientId), await snapshot(h.store.db, world.victimClientId)].join('\n');
  state.digest ??= await digests();
  let timer: NodeJS.Timeout | undefined;
  const res = await Promise.race([
    h.app.inject({ method: c.method as 'GET', url: c.url, headers: c.headers, payload: c.payload }),
    new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); }),
  ]);
  clearTimeout(timer);
  if (!res) return { status: undefined, problems: [`unanswered after ${timeoutMs} ms: ${where}`] };
  const problems: string[] = [];
  const said = `${where} → ${res.statusCode} ${res.body.slice(0, 300)}`;
  if (res.statusCode >= 500) problems.push(`5xx: ${said}`);
  const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim();
  if (res.statusCode === 404 && res.body === '') {
    if (c.routed) problems.push(`empty 404 from a route: ${said}`);
  } else if (res.statusCode < 300 && mediaType !== 'application/json') {
    // Exports answer CSV or NDJSON: fine when the document says this route does.
    if (!c.answers.includes(mediaType)) problems.push(`${mediaType || 'no media type'} not declared for the route: ${said}`);
  } else {
    let answer: Record<string, unknown> | undefined;
    try {
      answer = res.json();
    } catch {
      problems.push(`not JSON: ${said}`);
    }
    if (answer && answer.status !== res.statusCode) problems.push(`status ${String(answer.status)} in the body: ${said}`);
    if (answer && res.statusCode >= 400 && !(typeof answer.error === 'string' && answer.error.length > 0)) problems.push(`no error text: ${said}`);
  }
  if (res.statusCode >= 400) {
    const after = await digests();
    if (after !== state.digest) problems.push(`data changed by a refused request: ${said}`);
    state.digest = after;
  } else if (c.method !== 'GET') {
    await keepAgent(h, world);
    state.digest = undefined;
  }
  return { status: res.statusCode, problems };
}

/** Cases over every route, each route equally often. */
export function casesArb(routes: Route[], world: World): fc.Arbitrary<Case> {
  return fc.constantFrom(...routes).chain((route) => caseArb(route, world));
}

// The OpenAPI document as generated from the routes (app.swagger(), so routes added later are
// held to the same rules): operationIds, named schemas, ClientsID, streams, security, the answers
// the hooks add, examples that fit their schemas, and Redocly's recommended rules.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import type { FastifyInstance } from 'fastify';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { build } from '../src/app.ts';
import { openStore, type Store } from '../src/db/store.ts';

type Json = Record<string, any>;
interface Operation { path: string; method: string; op: Json }

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operationsOf(doc: Json): Operation[] {
  return Object.entries(doc.paths as Json).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ path, method, op: item[method] as Json })));
}

const schemeOf = (op: Json): string | undefined => (op.security?.length ? Object.keys(op.security[0])[0] : undefined);

describe('the OpenAPI document', () => {
  let store: Store;
  let app: FastifyInstance;
  let doc: Json;
  let ops: Operation[];
  const byId = (id: string) => ops.find((o) => o.op.operationId === id)!.op;

  before(async () => {
    store = await openStore({ dataDir: 'memory://', migrate: false });
    app = await build({ store });
    await app.ready();
    doc = app.swagger() as Json;
    ops = operationsOf(doc);
  });
  after(async () => {
    await app.close();
    await store.close();
  });

  it('gives every operation a unique camelCase operationId and a summary', () => {
    assert.ok(ops.length >= 80, `only ${ops.length} operations`);
    const ids = ops.map((o) => o.op.operationId);
    for (const { path, method, op } of ops) {
      assert.match(op.operationId ?? '', /^[a-z][a-zA-Z0-9]+$/, `${method} ${path}: operationId`);
      assert.ok(op.summary, `${method} ${path}: summary`);
    }
    assert.equal(new Set(ids).size, ids.length, 'operationIds repeat');
    assert.equal(byId('createAcdEvent'), doc.paths['/rest/v1.0/{ClientsID}/acd/events/create'].post);
  });

  it('names its component schemas (no def-0 …), and every one is used', () => {
    const names = Object.keys(doc.components.schemas);
    for (const name of ['ErrorBody', 'AcdEvent', 'AcdGroup', 'User', 'DiallerCampaign', 'DiallerContact']) assert.ok(names.includes(name), name);
    const text = JSON.stringify(doc.paths);
    for (const name of names) {
      assert.doesNotMatch(name, /^def-\d+$/);
      assert.ok(text.includes(`"#/components/schemas/${name}"`) || JSON.stringify(doc.components).includes(`"#/components/schemas/${name}"`), `${name} unused`);
    }
  });

  it('declares ClientsID an integer 1..2147483647 on every operation that has it, and ids as integers', () => {
    let seen = 0;
    for (const { path, method, op } of ops) {
      for (const p of (op.parameters ?? []) as Json[]) {
        if (p.in !== 'path') continue;
        if (p.name === 'LeaseID') continue; // a lease is named by a string
        assert.deepEqual([p.schema.type, p.schema.minimum, p.schema.maximum], ['integer', 1, 2147483647], `${method} ${path}: ${p.name}`);
        if (p.name === 'ClientsID') seen++;
      }
      if (path.includes('{ClientsID}')) assert.ok(op.parameters.some((p: Json) => p.name === 'ClientsID' && p.required), `${method} ${path}`);
    }
    assert.ok(seen >= 80, `ClientsID on only ${seen} operations`);
  });

  it('documents the live streams as text/event-stream and the contact export as its file types', () => {
    for (const id of ['streamMyChanges', 'streamClientChanges']) assert.deepEqual(Object.keys(byId(id).responses[200].content), ['text/event-stream'], id);
    assert.deepEqual(Object.keys(byId('exportDiallerContacts').responses[200].content).sort(), ['application/x-ndjson', 'text/csv']);
    assert.deepEqual(Object.keys(byId('importDiallerContactFile').requestBody.content).sort(), ['application/x-ndjson', 'text/csv']);
  });

  it('has three described bearer schemes and the console cookie, one per operation by who may call it, and no global one', () => {
    const schemes = doc.components.securitySchemes as Json;
    assert.deepEqual(Object.keys(schemes).sort(), ['adminToken', 'agentSession', 'clientToken', 'consoleSession']);
    for (const [name, scheme] of Object.entries(schemes)) {
      if (name === 'consoleSession') assert.ok(scheme.type === 'apiKey' && scheme.in === 'cookie' && scheme.name === 'sb_session' && scheme.description.length > 40);
      else assert.ok(scheme.type === 'http' && scheme.scheme === 'bearer' && scheme.description.length > 40);
    }
    assert.equal(doc.security, undefined);
    // The console cookie (src/http/auth.ts): an agent's where an agent token goes, a supervisor's
    // on every read but the webhooks' and on the two supervisor actions; its own session routes take only it.
    const supervisorActions = new Set(['reassignAcdEvent', 'forceAgentLogout']);
    for (const { path, method, op } of ops) {
      const consoleOwn = path.endsWith('/console/session') && method !== 'post';
      const expected = path.startsWith('/rest/v1.0/clients') ? 'adminToken'
        : path.endsWith('/agents/login') || path.endsWith('/console/session') && method === 'post' ? undefined
          : consoleOwn ? 'consoleSession'
            : /\/agents\/me(\/|$)/.test(path) ? 'agentSession' : 'clientToken';
      assert.equal(schemeOf(op), expected, `${method} ${path}`);
      const cookie = consoleOwn || expected === 'agentSession'
        || (expected === 'clientToken' && ((method === 'get' && !/\/webhooks(\/|$)/.test(path)) || supervisorActions.has(op.operationId)));
      const schemes = ((op.security ?? []) as Json[]).map((s) => Object.keys(s)[0]);
      assert.equal(schemes.includes('consoleSession'), cookie, `${method} ${path}: ${schemes}`);
      assert.ok(Array.isArray(op.security) && op.security.length <= (cookie && !consoleOwn ? 2 : 1), `${method} ${path}`);
    }
  });

  it('has servers and a license', () => {
    assert.ok(doc.servers.length >= 1 && doc.servers[0].url);
    assert.ok(doc.info.license.name && (doc.info.license.identifier || doc.info.license.url));
  });

  it('documents 413 and 415 where a body is taken, 403 and 429 where a client or agent token is, 429 at the login', () => {
    for (const { path, method, op } of ops) {
      const codes = Object.keys(op.responses);
      const where = `${method} ${path}: ${codes}`;
      assert.equal(codes.includes('413') && codes.includes('415'), op.requestBody !== undefined, where);
      const scheme = schemeOf(op);
      assert.equal(codes.includes('403'), scheme === 'clientToken' || scheme === 'agentSession' || (scheme === 'consoleSession' && method !== 'get'), where);
      assert.equal(codes.includes('429'), scheme !== 'adminToken', where);
      if (codes.includes('429')) assert.ok(op.responses[429].headers['Retry-After'], where);
      for (const code of codes) assert.notEqual(op.responses[code].description, 'Default Response', where);
    }
  });

  it('documents 409 only where the service can answer it', () => {
    const conflicts = new Set(['setAcdGroupMember', 'deleteAcdGroup', 'deleteDiallerCampaignByName', 'listCallableDiallerContacts']);
    for (const { path, method, op } of ops) {
      if (method === 'post' || method === 'patch') continue; // an Idempotency-Key still in use answers 409 there
      assert.equal('409' in op.responses, conflicts.has(op.operationId), `${method} ${path}`);
    }
    for (const id of ['createAcdGroup', 'updateAcdGroup', 'createUser', 'acceptAcdEvent', 'reassignAcdEvent', 'loginToAcdGroup']) {
      assert.ok('409' in byId(id).responses, id);
    }
    assert.ok(!('409' in byId('loginAgent').responses));
  });

  it('shows a realistic example for every create and list, fitting its schema', () => {
    const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
    ajv.addSchema({ ...doc, $id: 'openapi' });
    const check = (pointer: string, value: unknown, where: string) => {
      const validate = ajv.getSchema(`openapi#${pointer}`)!;
      assert.ok(validate(value), `${where}: ${JSON.stringify(validate.errors)}`);
    };
    const escape = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1');
    let shown = 0;
    for (const { path, method, op } of ops) {
      const base = `/paths/${escape(path)}/${method}`;
      const answer = op.responses[200]?.content?.['application/json'];
      const request = op.requestBody?.content?.['application/json'];
      if (/^(create|list)/.test(op.operationId) && answer) {
        assert.ok(answer.example !== undefined, `${op.operationId}: no example answer`);
        if (/^create/.test(op.operationId)) assert.ok(request?.example !== undefined, `${op.operationId}: no example body`);
      }
      if (answer?.example !== undefined) {
        check(`${base}/responses/200/content/application~1json/schema`, answer.example, `${op.operationId} answer`);
        shown++;
      }
      if (request?.example !== undefined) check(`${base}/requestBody/content/application~1json/schema`, request.example, `${op.operationId} body`);
    }
    assert.ok(shown >= 10, `only ${shown} examples`);
  });

  it('passes Redocly\'s recommended rules without errors or warnings', async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
    assert.deepEqual(problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} ${p.location[0]?.pointer ?? ''}`), []);
  });
});

// Live push [ours]: Server-Sent Events for an agent (their own offers and events, their state and
// the dialler contacts they work) and for supervisors (every change of the client). A stream
// delivers every topic: the audience is the message's client and agent (src/db/changes.ts).
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { AgentTokenRequired, InvalidField } from '../../errors.ts';
import { ClientScopedParams, commonErrors } from '../../http/schema-types.ts';
import { PushHub } from './hub.ts';
import { deleteExpired, RETENTION_HOURS, startCursor, type Audience } from './repository.ts';

const tags = ['Live push'];
const StreamQuery = Type.Object(
  { lastEventId: Type.Optional(Type.String({ description: 'For clients that cannot send the Last-Event-ID header' })) },
  { additionalProperties: false },
);
const description = `text/event-stream. Each message has an \`id\`, an \`event\` (\`event\`: an ACD event changed status or holder;
\`agent\`: an agent logged in or out or changed capacity) and JSON \`data\`. Reconnect with the \`Last-Event-ID\` header (browsers do
this on their own) to receive everything missed; messages are kept ${RETENTION_HOURS} h. Without it, the stream starts with what
happens next.`;
const response = {
  200: { description: 'Server-Sent Events, one message per change', content: { 'text/event-stream': { schema: Type.String() } } },
  ...commonErrors, 403: Type.Ref('ErrorBody'),
};

const STREAM_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };

/** Last-Event-ID: the id of a feed message, decimal. */
function lastEventIdOf(request: FastifyRequest, query: { lastEventId?: string }): string | null {
  const header = request.headers['last-event-id'];
  const value = (Array.isArray(header) ? header[0] : header) ?? query.lastEventId;
  if (value === undefined || value === '') return null;
  if (!/^\d{1,18}$/.test(value)) throw new InvalidField('Last-Event-ID', 'must be the id of a message this stream sent');
  return value;
}

export const pushRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const hub = new PushHub(app.store, {}, (error) => app.log.warn({ err: error }, 'push stream read failed'));
  app.addHook('preClose', async () => hub.close());
  app.metrics.countOpenStreams(() => hub.size);
  if (app.distributorRunning) {
    const sweep = setInterval(() => {
      deleteExpired(app.store.db, new Date(app.clock.now())).catch((error) => app.log.warn({ err: error }, 'push retention sweep failed'));
    }, 600_000);
    sweep.unref();
    app.addHook('onClose', async () => clearInterval(sweep));
  }

  const open = async (request: FastifyRequest, query: { lastEventId?: string }, reply: FastifyReply, audience: Audience) => {
    const lastEventId = lastEventIdOf(request, query);
    // HEAD (Fastify routes it to the GET handler) gets the stream's headers: a stream opened for
    // it would never end, and the client would wait for an answer forever.
    // An empty stream, not an empty body: a HEAD answer's Content-Length would claim a GET's length.
    if (request.method === 'HEAD') return reply.code(200).headers(STREAM_HEADERS).send(Readable.from([]));
    const cursor = await startCursor(app.store.db, audience, lastEventId);
    reply.hijack();
    hub.open(reply.raw, audience, cursor, request.client.timeZone);
  };

  app.get('/agents/me/stream', {
    schema: { tags, operationId: 'streamMyChanges', summary: 'My live stream (agent token): my offers and events, and my agent state', description, params: ClientScopedParams(), querystring: StreamQuery, response },
  }, async (request, reply) => {
    if (request.actor.kind !== 'agent') throw new AgentTokenRequired();
    await open(request, request.query, reply, { clientId: request.client.id, agentId: request.actor.userId });
  });

  app.get('/supervisor/stream', {
    schema: { tags, operationId: 'streamClientChanges', summary: 'Live stream of the client (client token): every event and agent change', description, params: ClientScopedParams(), querystring: StreamQuery, response },
  }, async (request, reply) => {
    await open(request, request.query, reply, { clientId: request.client.id });
  });
};

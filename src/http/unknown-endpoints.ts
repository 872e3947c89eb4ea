// jtel: an endpoint that does not exist answers 404 with an empty body, whatever the request
// carries. Two requests reach a route's context all the same and would be answered otherwise:
// - a QUERY (RFC 10008) to an endpoint without one: Fastify refuses it for a missing Content-Type
//   (400) before the not-found handler runs;
// - a path segment that names an endpoint where an id may also stand: `GET …/dialler/campaigns/
//   create` (create is POST only) matches `…/dialler/campaigns/{DiallerCampaignsID}` and would
//   answer 400 for a malformed id. A word that is a static segment of some route at that place
//   is never an id.
// A root onRequest hook, so both are answered before any scope's authentication.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export function installUnknownEndpoints(app: FastifyInstance): void {
  /** The static segments of every route, by the route pattern before them. */
  const words = new Map<string, Set<string>>();
  /** For each route pattern with parameters: each parameter and the pattern before it. */
  const paramsOf = new Map<string, [name: string, prefix: string][]>();

  app.addHook('onRoute', (route) => {
    const segments = route.url.split('/');
    const params: [string, string][] = [];
    segments.forEach((segment, i) => {
      const prefix = segments.slice(0, i).join('/');
      if (segment.startsWith(':')) {
        params.push([segment.slice(1).replace(/\(.*$/, ''), prefix]);
      } else if (segment !== '') {
        if (!words.has(prefix)) words.set(prefix, new Set());
        words.get(prefix)!.add(segment);
      }
    });
    if (params.length > 0) paramsOf.set(route.url, params);
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.is404) {
      if (request.method === 'QUERY') return reply.code(404).send('');
      return;
    }
    const params = paramsOf.get(request.routeOptions.url ?? '');
    if (!params) return;
    const values = request.params as Record<string, string | undefined>;
    for (const [name, prefix] of params) {
      const value = values[name];
      if (value !== undefined && words.get(prefix)?.has(value)) return reply.code(404).send('');
    }
  });
}

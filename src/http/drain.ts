// A graceful drain that answers everything it accepted. Once a shutdown begins, every answer not
// yet started carries `Connection: close`, so a client learns from the answer itself that the
// connection ends instead of sending its next request into a socket about to close (a request
// lost unprocessed). Node's http Server.close() would also reap idle keep-alive connections at
// once, resetting a request already on its way on one of them; so the listener stops first,
// connections in use get a moment to finish their exchange, and only then does the app close.
import { Server as NetServer } from 'node:net';
import type { Server, ServerResponse } from 'node:http';

export interface Drain {
  /** Stops accepting connections and waits up to `lingerMs` for open ones to finish. */
  drain(lingerMs: number): Promise<void>;
}

export function trackDrain(server: Server): Drain {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  // Before Fastify's own listener, so the header is set before any handler answers.
  server.prependListener('request', (_request, response: ServerResponse) => {
    if (draining) {
      closeAfter(response);
      return;
    }
    inFlight.add(response);
    response.once('close', () => inFlight.delete(response));
  });
  return {
    async drain(lingerMs) {
      if (draining) return;
      draining = true;
      for (const response of inFlight) closeAfter(response);
      if (!server.listening) return;
      NetServer.prototype.close.call(server);
      const deadline = Date.now() + lingerMs;
      while (Date.now() < deadline && (await openConnections(server)) > 0) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

function closeAfter(response: ServerResponse): void {
  if (!response.headersSent) response.setHeader('Connection', 'close');
}

function openConnections(server: Server): Promise<number> {
  return new Promise((resolve) => server.getConnections((error, count) => resolve(error ? 0 : count)));
}

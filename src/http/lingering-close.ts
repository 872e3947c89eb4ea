// An answer sent before the request's body has all arrived (413, or a body refused halfway) ends
// the connection. Closed at once, the socket still holds bytes the client sent and the kernel
// answers them, and everything the client sends after, with a reset; a client that sends its
// whole body before reading (most do) then fails on a write and never reads the answer. So such
// a connection lingers, as web servers do: the answer goes out with a FIN, what still arrives is
// read and thrown away, and the socket is closed when the client closes its side, or after
// LINGER_MS at the latest, so nobody can hold it open by sending forever.
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const LINGER_MS = 5000;

const lingering = new WeakSet<Socket>();

/** Call before the answer is sent: when it ends the connection, the socket lingers first. */
export function lingerIfBodyUnread(request: FastifyRequest, reply: FastifyReply): void {
  const socket = request.raw.socket as Socket | null;
  if (request.raw.complete || !socket || lingering.has(socket)) return;
  if (String(reply.getHeader('connection') ?? '').toLowerCase() !== 'close') return;
  lingering.add(socket);
  // The rest of the body flows into the request stream, which drops it unread.
  request.raw.resume();
  // Node's server calls destroySoon() once the answer has been written; a net.Socket
  // half-closes, then destroys itself when the client's side has ended too.
  socket.destroySoon = () => {
    if (socket.writable) socket.end();
    const timer = setTimeout(() => socket.destroy(), LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

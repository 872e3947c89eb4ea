// A local webhook receiver for the tests and the bench: records every request (headers, body,
// when it came) and answers as told, and counts how many requests of one webhook-id are open at once.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type Answer = { status: number; delayMs?: number; headers?: Record<string, string>; body?: string };

export interface Receiver {
  url: string;
  received: Received[];
  /** How each request is answered (default 200). */
  answer: (r: Received) => Answer;
  /** Largest number of requests of one webhook-id open at the same time. */
  maxConcurrentPerId(): number;
  /** Largest number of requests open at the same time. */
  maxConcurrent(): number;
  close(): Promise<void>;
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const open = new Map<string, number>();
  let maxOpen = 0;
  let openAll = 0;
  let maxAll = 0;
  const receiver: Receiver = {
    url: '',
    received: [],
    answer: () => ({ status: 200 }),
    maxConcurrentPerId: () => maxOpen,
    maxConcurrent: () => maxAll,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      receiver.received.push(got);
      const id = String(req.headers['webhook-id']);
      open.set(id, (open.get(id) ?? 0) + 1);
      maxOpen = Math.max(maxOpen, open.get(id)!);
      maxAll = Math.max(maxAll, ++openAll);
      const a = receiver.answer(got);
      // Open until answered or until the sender goes (a killed sender's socket closes).
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        open.set(id, open.get(id)! - 1);
        openAll--;
      };
      res.once('close', close);
      const reply = () => {
        if (res.destroyed) return close();
        res.writeHead(a.status, a.headers ?? {});
        res.end(a.body ?? '', close);
      };
      if (a.delayMs) setTimeout(reply, a.delayMs).unref();
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as { port: number }).port}${path}`;
  return receiver;
}

// One attempt: a POST with a deadline, no redirect followed (a 3xx is a failure: the target moved
// and its owner should say where), and at most an excerpt of the answer read, the rest dropped.
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { guardedLookup, isPrivateAddress, RefusedTarget } from './safety.ts';

/** The most of an answer kept in the delivery log. */
export const EXCERPT_BYTES = 1024;

export interface Outcome {
  /** The HTTP status, when an answer came. */
  status: number | null;
  /** Why there was no usable answer (timeout, refused target, connection error). */
  error: string | null;
  latencyMs: number;
  excerpt: string | null;
  /** The target may never be sent to (private address): no point retrying soon. */
  refused: boolean;
}

export interface SendOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  agents: DeliveryAgents;
}

export interface DeliveryAgents {
  http: HttpAgent;
  https: HttpsAgent;
  close(): void;
}

/**
 * Keep-alive connections per worker, at most `perHost` to one host. A connection is checked when
 * it is opened (the lookup hook), so reusing it reaches the address that was checked.
 */
export function deliveryAgents(allowPrivate: () => boolean, perHost: number): DeliveryAgents {
  const options = { keepAlive: true, maxSockets: perHost, maxFreeSockets: perHost, lookup: guardedLookup(allowPrivate) as never };
  const agents = { http: new HttpAgent(options), https: new HttpsAgent(options) };
  return { ...agents, close: () => { agents.http.destroy(); agents.https.destroy(); } };
}

export async function send(url: string, headers: Record<string, string>, body: string, options: SendOptions): Promise<Outcome> {
  const started = performance.now();
  const done = (o: Omit<Outcome, 'latencyMs'>): Outcome => ({ ...o, latencyMs: Math.round(performance.now() - started) });
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  if (!options.allowPrivate && isIP(host) && isPrivateAddress(host)) {
    return done({ status: null, error: `refused: ${host} is a private address`, excerpt: null, refused: true });
  }
  const signal = AbortSignal.timeout(options.timeoutMs);
  const payload = Buffer.from(body);
  const secure = target.protocol === 'https:';
  const request = secure ? httpsRequest : httpRequest;
  try {
    const { status, excerpt } = await new Promise<{ status: number; excerpt: string }>((resolve, reject) => {
      const req = request(target, {
        method: 'POST',
        headers: { ...headers, 'content-length': String(payload.length), 'user-agent': 'Switchboard-Webhooks/1' },
        lookup: guardedLookup(() => options.allowPrivate) as never,
        signal,
        agent: secure ? options.agents.https : options.agents.http,
      }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        let finished = false;
        const finish = () => {
          if (finished) return;
          finished = true;
          // An answer read whole leaves the connection for the next delivery; a long one is cut.
          if (!res.complete) res.destroy();
          else res.resume();
          resolve({ status: res.statusCode ?? 0, excerpt: Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8') });
        };
        res.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          size += chunk.length;
          if (size >= EXCERPT_BYTES) finish();
        });
        res.on('end', finish);
        res.on('error', finish);
      });
      req.on('error', reject);
      req.end(payload);
    });
    return done({ status, error: null, excerpt, refused: false });
  } catch (error) {
    if (error instanceof RefusedTarget) return done({ status: null, error: `refused: ${error.message}`, excerpt: null, refused: true });
    const reason = signal.aborted ? `timeout after ${options.timeoutMs} ms` : (error as Error).message;
    return done({ status: null, error: reason, excerpt: null, refused: false });
  }
}

// A small keep-alive HTTP client for the benchmark's calls to Switchboard's API.
import http from 'node:http';

export interface Reply {
  status: number;
  body: any;
}

/** A transport failure (refused, reset, timed out): the request's outcome is unknown. */
export class TransportError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/** One Switchboard instance as seen from the client side, with its own keep-alive pool. */
export class Api {
  readonly url: string;
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  constructor(url: string, options: { maxSockets?: number; timeoutMs?: number } = {}) {
    this.url = url;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets ?? 64 });
    this.timeoutMs = options.timeoutMs ?? 15_000;
  }

  call(method: string, path: string, token?: string, body?: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const fail = (error: Error & { code?: string }) => {
        if (settled) return;
        settled = true;
        reject(new TransportError(`${method} ${path}: ${error.message}`, error.code ?? 'ERR'));
      };
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (payload !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = String(Buffer.byteLength(payload));
      }
      const request = http.request(`${this.url}${path}`, { method, agent: this.agent, headers, timeout: this.timeoutMs }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('aborted', () => fail(Object.assign(new Error('response aborted'), { code: 'ECONNRESET' })));
        response.on('end', () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text ? JSON.parse(text) : undefined;
          } catch {
            json = text;
          }
          resolve({ status: response.statusCode ?? 0, body: json });
        });
      });
      request.on('timeout', () => request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', fail);
      request.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Throws unless the answer is 200; returns the first record of the envelope. */
export async function expectRecord(reply: Promise<Reply>, what: string): Promise<any> {
  const r = await reply;
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body?.records?.[0];
}

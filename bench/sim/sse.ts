// One live stream (Server-Sent Events) of a simulated agent, parsed as a browser would.
import http from 'node:http';

/** How long a stream may stay silent (the server sends a comment every 15 s) before it counts as dead. */
const STREAM_SILENCE_MS = 45_000;

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * One `GET …/agents/me/stream` connection, on a connection of its own (not the keep-alive pool),
 * parsing text/event-stream. `onMessage` gets each dispatched message; `onEnd` is called once,
 * whatever ends the stream (server end, reset, refusal, silence, close()): with the HTTP status if
 * the server answered other than 200, and whether the stream had opened.
 */
export class SseConnection {
  readonly #request: http.ClientRequest;
  #ended = false;
  #silence: NodeJS.Timeout | undefined;

  constructor(
    url: string,
    token: string,
    lastEventId: string | undefined,
    handlers: {
      onOpen(): void;
      onMessage(message: SseMessage): void;
      onEnd(outcome: { opened: boolean; status?: number; body?: string; error?: Error & { code?: string } }): void;
    },
  ) {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    let opened = false;
    const end = (outcome: { status?: number; body?: string; error?: Error & { code?: string } }) => {
      if (this.#ended) return;
      this.#ended = true;
      clearTimeout(this.#silence);
      this.#request.destroy();
      handlers.onEnd({ opened, ...outcome });
    };
    const heard = () => {
      clearTimeout(this.#silence);
      this.#silence = setTimeout(() => end({ error: Object.assign(new Error('stream silent'), { code: 'ESILENT' }) }), STREAM_SILENCE_MS);
    };
    this.#request = http.request(url, { method: 'GET', agent: false, headers }, (response) => {
      response.on('error', (error) => end({ error }));
      if (response.statusCode !== 200) {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => end({ status: response.statusCode, body }));
        response.on('close', () => end({ status: response.statusCode, body }));
        return;
      }
      opened = true;
      heard();
      handlers.onOpen();
      // The SSE format: fields up to a blank line make a message; `data` lines join with \n.
      let buffer = '';
      let id: string | undefined;
      let event = '';
      let data: string[] = [];
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (this.#ended) return;
        heard();
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          let line = buffer.slice(0, newline);
          buffer = buffer.slice(newline + 1);
          if (line.endsWith('\r')) line = line.slice(0, -1);
          if (line === '') {
            if (data.length > 0) handlers.onMessage({ id, event: event || 'message', data: data.join('\n') });
            event = '';
            data = [];
            continue;
          }
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          let value = colon < 0 ? '' : line.slice(colon + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'id') id = value;
          else if (field === 'event') event = value;
          else if (field === 'data') data.push(value);
        }
      });
      response.on('end', () => end({}));
      response.on('close', () => end({ error: Object.assign(new Error('stream closed'), { code: 'ECONNRESET' }) }));
    });
    this.#request.on('error', (error) => end({ error }));
    this.#request.end();
    // Also bounds the wait for the answer's head.
    heard();
  }

  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#silence);
    this.#request.destroy();
  }
}

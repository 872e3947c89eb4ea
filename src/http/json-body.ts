// The one body parser: JSON only (text/plain would otherwise reach the routes as a string, a 415
// per spec), strict UTF-8, and bounded nesting. Everything after parsing (the preValidation hooks,
// Ajv, the services) walks bodies recursively, so depth is refused here, before JSON.parse, by a
// loop over the text: a 20 KB body of 10,000 nested arrays would otherwise overflow the stack.
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance } from 'fastify';
import { BodyNotUtf8, BodyTooDeep } from '../errors.ts';

/** Deepest nesting of arrays and objects a body may have; the deepest the API takes is 4 (a campaign's result code texts). */
export const MAX_BODY_DEPTH = 64;

const OPEN_BRACE = 0x7b, OPEN_BRACKET = 0x5b, CLOSE_BRACE = 0x7d, CLOSE_BRACKET = 0x5d, QUOTE = 0x22, BACKSLASH = 0x5c;

/** Whether the JSON text nests deeper than `limit` (outside strings); malformed text is JSON.parse's to refuse. */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // Fewer characters than the limit cannot open more levels than it.
  if (text.length <= limit) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

export function installJsonBody(app: FastifyInstance): void {
  app.removeContentTypeParser('text/plain');
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    // An empty JSON body is "no body" for the routes that take none (DELETE, token rotation).
    if (bytes.length === 0) {
      done(null, undefined);
      return;
    }
    // Decoding would turn invalid bytes into U+FFFD and store them as if the client had sent that.
    if (!isUtf8(bytes)) {
      done(new BodyNotUtf8(), undefined);
      return;
    }
    const text = bytes.toString('utf8');
    if (nestsDeeperThan(text, MAX_BODY_DEPTH)) {
      done(new BodyTooDeep(MAX_BODY_DEPTH), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}

// The single place where errors become the wire format `{status, error[, details]}`.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isConnectionLoss } from '../db/errors.ts';
import {
  ApiError, HeadersTooLarge, MalformedRequest, MissingHost, RequestTimeout, ShuttingDown, Unavailable, type ErrorDetail,
} from '../errors.ts';
import { lingerIfBodyUnread } from './lingering-close.ts';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

const PART_NAMES: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/** `/Subject` → `Subject`; a missing or extra property names that property. */
function fieldOf(err: AjvError): string {
  const path = (err.instancePath ?? '').split('/').filter(Boolean).join('.');
  const extra = err.params?.missingProperty ?? err.params?.additionalProperty;
  if (typeof extra === 'string') return path ? `${path}.${extra}` : extra;
  return path;
}

function reasonOf(err: AjvError): string {
  if (err.keyword === 'additionalProperties') return 'unknown field';
  if (err.keyword === 'required') return 'is required';
  return err.message ?? 'is invalid';
}

export function toWire(error: FastifyError | ApiError | Error): { status: number; body: Record<string, unknown>; headers?: Record<string, string> } {
  if (error instanceof ApiError) {
    const body: Record<string, unknown> = { status: error.status, error: error.message };
    if (error.details) body.details = error.details;
    return { status: error.status, body, headers: error.headers };
  }
  const fe = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (fe.validation) {
    const part = PART_NAMES[fe.validationContext ?? 'body'] ?? 'request';
    const details: ErrorDetail[] = fe.validation.map((v) => ({ field: fieldOf(v) || part, message: reasonOf(v) }));
    const first = details[0];
    return { status: 400, body: { status: 400, error: `Invalid ${part}: ${first.field} ${first.message}`, details } };
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, body: { status: 415, error: 'Request body must be JSON (Content-Type: application/json)' } };
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, body: { status: 413, error: 'Request body is larger than the configured limit' } };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, body: { status: 400, error: 'Request body is empty; send a JSON object' } };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, body: { status: 400, error: 'Request body is not valid JSON' } };
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    // Other client errors Fastify raises (bad JSON, bad headers): its message holds no internals.
    return { status: fe.statusCode, body: { status: fe.statusCode, error: fe.message } };
  }
  // The database is down or the connection broke: worth trying again, not a fault of the request.
  if (isConnectionLoss(error)) return toWire(new Unavailable());
  return { status: 500, body: { status: 500, error: 'Internal server error' } };
}

/** What the HTTP parser could not read, by llhttp's error code; the rest is "not HTTP/1.1". */
const PARSE_FAILURES: Record<string, string> = {
  HPE_INVALID_METHOD: 'the request line is not "METHOD /path HTTP/1.1"',
  HPE_INVALID_URL: 'the request line is not "METHOD /path HTTP/1.1"',
  HPE_INVALID_CONSTANT: 'the request line is not "METHOD /path HTTP/1.1"',
  HPE_INVALID_VERSION: 'the request line is not "METHOD /path HTTP/1.1"',
  HPE_INVALID_CONTENT_LENGTH: 'Content-Length is not a decimal number',
  HPE_UNEXPECTED_CONTENT_LENGTH: 'Content-Length is given twice',
  HPE_INVALID_TRANSFER_ENCODING: 'Transfer-Encoding is not valid, or comes with a Content-Length',
  HPE_INVALID_CHUNK_SIZE: 'the chunked body is malformed',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'the chunked body is malformed',
  HPE_INVALID_HEADER_TOKEN: 'a header line is malformed',
  HPE_LF_EXPECTED: 'a line does not end in CRLF',
  HPE_CR_EXPECTED: 'a line does not end in CRLF',
};

function parseFailure(code: string | undefined): ApiError {
  if (code === 'HPE_HEADER_OVERFLOW') return new HeadersTooLarge();
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new RequestTimeout();
  return new MalformedRequest((code && PARSE_FAILURES[code]) ?? 'it is not HTTP/1.1');
}

const answered = new WeakSet<Socket>();

/**
 * Fastify's clientErrorHandler: a request Node's parser refused never reaches a route, so the
 * answer is written to the socket here, in the wire format, and the connection ends.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody to answer; the parser may report one request twice.
  if (error.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  const { status, body } = toWire(parseFailure(error.code));
  this.log.debug({ err: error }, 'unparseable request');
  if (socket.writable) {
    const text = JSON.stringify(body);
    socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\n`
      + `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
  // Whatever else the client sends is never read: close soon, but after the answer is out.
  setTimeout(() => socket.destroy(), 1000).unref();
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

export function installErrorHandling(app: FastifyInstance): void {
  // Fastify's own 503 while closing (return503OnClosing) has its own body; this one has ours.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request) => {
    if (closing) throw new ShuttingDown();
    // Node's own answer to an HTTP/1.1 request without Host is a bare 400 (requireHostHeader off).
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) throw new MissingHost();
  });
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const wire = toWire(error);
    if (wire.status >= 500 && !(error instanceof ShuttingDown)) request.log.error({ err: error }, 'request failed');
    lingerIfBodyUnread(request, reply);
    if (wire.headers) reply.headers(wire.headers);
    return reply.code(wire.status).type('application/json; charset=utf-8').send(wire.body);
  });
  // jtel: an unknown endpoint is a 404 with an empty body (an unknown object has a JSON body).
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(''));
}

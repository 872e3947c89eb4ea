// The single place where errors become the wire format `{status, error[, details]}`.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError, type ErrorDetail } from '../errors.ts';

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
  return { status: 500, body: { status: 500, error: 'Internal server error' } };
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const wire = toWire(error);
    if (wire.status >= 500) request.log.error({ err: error }, 'request failed');
    if (wire.headers) reply.headers(wire.headers);
    return reply.code(wire.status).type('application/json; charset=utf-8').send(wire.body);
  });
  // jtel: an unknown endpoint is a 404 with an empty body (an unknown object has a JSON body).
  app.setNotFoundHandler((_request, reply) => reply.code(404).send(''));
}

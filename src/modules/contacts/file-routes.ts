// Contact files (spec §8.2): the bulk import and the export, CSV, jtel's legacy semicolon format
// or NDJSON. The import's body is the raw request stream, never buffered: the content-type
// parsers of this plugin (and only of it) hand the stream over, and the byte limit is counted
// while reading.
import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from 'typebox';
import { ApiError, ClientNotFound } from '../../errors.ts';
import type { ClientContext } from '../../http/auth.ts';
import { commonErrors, IdParam } from '../../http/schema-types.ts';
import { REQUEST_BODY } from '../../http/openapi-document.ts';
import { importFile } from './bulk-import.ts';
import { CONTENT_TYPES, exportContacts } from './export.ts';
import { PayloadTooLarge } from './file-formats.ts';
import { BulkImportQuery, BulkReport, ExportQuery, type FileFormat } from './schemas.ts';
import { resolveCampaign } from './service.ts';

const tags = ['Dialler contacts'];

/** Default largest import file: 2 GiB. */
export const DEFAULT_IMPORT_BODY_LIMIT = 2 * 1024 * 1024 * 1024;

export interface FileRoutesOptions {
  /** Largest import file in bytes (413 beyond). */
  importBodyLimit?: number;
}

const FILE_TYPES = ['text/csv', 'application/x-ndjson'];
/** The file in the document: text/csv (formats csv and semicolon) or NDJSON. */
const FILE_CONTENT = Object.fromEntries(FILE_TYPES.map((type) => [type, { schema: Type.String() }]));
const CAMPAIGN_PARAMS = { id: 'diallerCampaignsID', name: 'diallerCampaignsName' };

const NotAFile = () => new ApiError('SB_UNSUPPORTED_MEDIA_TYPE', 415, 'Send the file as the body, with Content-Type text/csv or application/x-ndjson');

/**
 * The request stream as the route's body, behind a private field: hooks that walk every body
 * (rejectUnstorableText) see an object with no fields, not the socket's object graph.
 */
class FileBody {
  readonly #stream: Readable;
  constructor(stream: Readable) {
    this.#stream = stream;
  }
  get stream(): Readable {
    return this.#stream;
  }
}

const BULK_DESCRIPTION = 'The body is the file: `text/csv` (format csv or semicolon) or `application/x-ndjson`. '
  + 'CSV and semicolon files start with a header row of jtel field names (those of the contact record; '
  + 'the dialler\'s own fields such as ID, State or nTries are accepted and ignored, so an export imports as it is); '
  + 'empty cells are absent values. NDJSON: one single-import body per line. Every row passes the single import\'s checks; '
  + 'rows are written 1000 per transaction, a row with the UserData of an earlier one (with overwriteDuplicates) overwrites it '
  + 'as sequential single imports would. The campaign comes from the query (a row\'s DiallerCampaignsID/Name is ignored). '
  + 'An unknown or repeated header field answers 400 before anything is imported. A fault in the file\'s structure '
  + '(malformed quoting, invalid UTF-8, a record over 1 MiB) stops the reading: the rows before it are imported and the '
  + 'report names the fault as its last error. Errors and DoNotCallRows list the first 1000.';

const bulkSchema = (operationId: string, extra: { params?: TSchema; description?: string } = {}) => ({
  tags,
  operationId,
  summary: 'Import a file of contacts into a campaign (streamed), with a report per row',
  description: BULK_DESCRIPTION + (extra.description ?? ''),
  ...(extra.params && { params: extra.params }),
  // Not `body`: the stream is the route's to read (see acceptFiles); the document still shows it.
  [REQUEST_BODY]: { required: true, description: 'The file', content: FILE_CONTENT },
  querystring: BulkImportQuery,
  response: {
    200: Type.Object({ records: Type.Array(BulkReport), count: Type.Integer(), status: Type.Integer() }),
    ...commonErrors, 413: Type.Ref('ErrorBody'), 415: Type.Ref('ErrorBody'),
  },
});

/** Hands the raw request stream to the route: a file is never buffered. */
function acceptFiles(app: FastifyInstance): void {
  app.addContentTypeParser(FILE_TYPES, (_request, payload, done) => done(null, new FileBody(payload)));
}

async function bulkImport(app: FastifyInstance, request: FastifyRequest, client: ClientContext, limit: number) {
  const body: unknown = request.body;
  if (!(body instanceof FileBody)) throw NotAFile();
  const declared = Number(request.headers['content-length']);
  if (declared > limit) throw PayloadTooLarge(limit);
  const query = request.query as Static<typeof BulkImportQuery>;
  const db = app.store.db;
  const campaign = await resolveCampaign(db, client, query.diallerCampaignsID, query.diallerCampaignsName, CAMPAIGN_PARAMS);
  const format: FileFormat = query.format ?? (request.headers['content-type']?.startsWith('application/x-ndjson') ? 'ndjson' : 'csv');
  const report = await importFile(db, client.id, campaign, body.stream, {
    format, overwrite: query.overwriteDuplicates ?? false, reset: query.resetDiallerState ?? false, bodyLimit: limit, now: () => app.clock.now(),
  });
  return { records: [report], count: 1, status: 200 };
}

export const contactFileRoutes: FastifyPluginAsyncTypebox<FileRoutesOptions> = async (app, options) => {
  const db = app.store.db;
  const limit = options.importBodyLimit ?? DEFAULT_IMPORT_BODY_LIMIT;
  acceptFiles(app);

  // No route bodyLimit: it would let a JSON body as large as a file be buffered; the file's own
  // limit is counted as it streams.
  app.post('/dialler/contacts/import/bulk', { schema: bulkSchema('importDiallerContactFile') }, (request) => bulkImport(app, request, request.client, limit));

  app.get('/dialler/contacts/export', {
    schema: {
      tags,
      operationId: 'exportDiallerContacts',
      summary: "A campaign's contacts as a file (streamed), every field of the record",
      description: 'csv and semicolon: a header row of the record\'s field names, then a row per contact, ordered by ID; '
        + 'ndjson: one record per line. The file imports again as it is (bulk import).',
      querystring: ExportQuery,
      response: { 200: { description: 'The file', content: FILE_CONTENT }, ...commonErrors },
    },
  }, async (request, reply) => {
    const { query, client } = request;
    const campaign = await resolveCampaign(db, client, query.diallerCampaignsID, query.diallerCampaignsName, CAMPAIGN_PARAMS);
    const format = query.format ?? 'csv';
    const stream = await exportContacts(db, client.id, campaign.id, format, client.timeZone);
    return reply.type(CONTENT_TYPES[format]).send(stream);
  });
};

/**
 * The bulk import for the system administrator, on the admin scope (`/rest/v1.0/clients/client/
 * {ClientsID}/…`): what `switchboard contacts import` sends to a server that holds the data
 * folder, with the admin token the server keeps for this host's commands. A client token cannot
 * be had without rotating it (which would lock the client's integration out).
 */
export const adminContactFileRoutes: FastifyPluginAsyncTypebox<FileRoutesOptions> = async (app, options) => {
  const limit = options.importBodyLimit ?? DEFAULT_IMPORT_BODY_LIMIT;
  acceptFiles(app);
  app.post('/clients/client/:ClientsID/dialler/contacts/import/bulk', {
    schema: bulkSchema('importClientDiallerContactFile', { params: IdParam('ClientsID'), description: ' Admin token; for the command line.' }),
  }, async (request) => {
    const row = await app.store.db.selectFrom('clients').select(['id', 'time_zone']).where('id', '=', (request.params as { ClientsID: number }).ClientsID).executeTakeFirst();
    if (!row) throw new ClientNotFound();
    return bulkImport(app, request, { id: row.id, timeZone: row.time_zone }, limit);
  });
};

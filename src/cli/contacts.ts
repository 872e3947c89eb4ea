// `switchboard contacts import FILE --campaign NAME …`: a file of contacts into a campaign, with a
// progress bar on stderr and the import's report on stdout. The store is opened directly when
// this process may (PostgreSQL, or a data folder nobody holds); while a server holds the folder,
// the file streams to that server's admin bulk-import route with the admin token it keeps for
// this host's commands (a client token could only be had by rotating it, locking the client's
// integration out). Either way the rows pass the same code as the API's bulk import.
import { createReadStream, statSync } from 'node:fs';
import { extname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { LockHolder } from '../db/folder-lock.ts';
import { StartFailure } from '../errors.ts';
import type { BulkReportData, FileFormat } from '../modules/contacts/schemas.ts';

type Db = Kysely<Database>;

export interface ContactsImportArgs {
  file: string;
  campaign: string;
  clientId: number | undefined;
  format: FileFormat;
  overwrite: boolean;
  reset: boolean;
}

const FORMATS: readonly FileFormat[] = ['csv', 'semicolon', 'ndjson'];

/** The command line's values, checked; a message for a usage error otherwise. */
export function contactsImportArgs(
  file: string | undefined, values: { campaign?: string; client?: string; format?: string; overwrite?: boolean; reset?: boolean },
): ContactsImportArgs | string {
  if (!file) return 'contacts import needs a FILE (see switchboard contacts --help)';
  if (!values.campaign) return 'contacts import needs --campaign NAME (see switchboard contacts --help)';
  if (values.client !== undefined && (!/^[1-9]\d{0,9}$/.test(values.client) || Number(values.client) > 2_147_483_647)) return '--client must be a ClientsID';
  const ext = extname(file).toLowerCase();
  const format = values.format ?? (ext === '.ndjson' || ext === '.jsonl' ? 'ndjson' : 'csv');
  if (!(FORMATS as readonly string[]).includes(format)) return `--format must be one of ${FORMATS.join(', ')}`;
  if (values.reset && !values.overwrite) return '--reset applies to overwritten contacts: give --overwrite too';
  return {
    file, campaign: values.campaign, clientId: values.client === undefined ? undefined : Number(values.client),
    format: format as FileFormat, overwrite: values.overwrite ?? false, reset: values.reset ?? false,
  };
}

/** Bytes sent of the file: a bar redrawn in place on a terminal, else a line per 10 %. */
function progress(total: number): Transform {
  const tty = process.stderr.isTTY === true;
  const mb = (n: number) => (n / 1048576).toFixed(1);
  let sent = 0;
  let lastTenth = 0;
  let lastDraw = 0;
  const draw = (force: boolean) => {
    const share = total === 0 ? 1 : sent / total;
    if (tty) {
      const now = Date.now();
      if (!force && now - lastDraw < 100) return;
      lastDraw = now;
      const width = 30;
      const filled = Math.round(share * width);
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${mb(sent)}/${mb(total)} MB`);
      if (force) process.stderr.write('\n');
      return;
    }
    const tenth = Math.floor(share * 10);
    if (tenth > lastTenth) {
      lastTenth = tenth;
      process.stderr.write(`sent ${tenth * 10}% (${mb(sent)} of ${mb(total)} MB)\n`);
    }
  };
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      sent += chunk.length;
      draw(false);
      done(null, chunk);
    },
    flush(done) {
      draw(true);
      done();
    },
  });
}

function fileStream(path: string): Readable {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new StartFailure(`cannot read ${path}: ${(error as Error).message}`);
  }
  return createReadStream(path).pipe(progress(size));
}

/** On the store itself. */
export async function importLocally(db: Db, args: ContactsImportArgs): Promise<BulkReportData> {
  const { campaignOf } = await import('../modules/contacts/repository.ts');
  const { importFile } = await import('../modules/contacts/bulk-import.ts');
  const clients = await db.selectFrom('clients').select(['id', 'time_zone']).$if(args.clientId !== undefined, (q) => q.where('id', '=', args.clientId!)).limit(2).execute();
  const client = pickClient(clients.map((c) => ({ id: c.id, timeZone: c.time_zone })), args.clientId);
  const campaign = await campaignOf(db, client.id, { name: args.campaign });
  if (!campaign) throw new StartFailure(`client ${client.id} has no campaign named "${args.campaign}"`);
  return importFile(db, client.id, campaign, fileStream(args.file), {
    format: args.format, overwrite: args.overwrite, reset: args.reset, bodyLimit: Number.MAX_SAFE_INTEGER, now: Date.now,
  });
}

function pickClient<T extends { id: number }>(clients: T[], wanted: number | undefined): T {
  if (wanted !== undefined && clients.length === 0) throw new StartFailure(`there is no client ${wanted}`);
  if (clients.length === 0) throw new StartFailure('there is no client yet (switchboard clients create)');
  if (clients.length > 1) throw new StartFailure('there are several clients: name one with --client ID');
  return clients[0]!;
}

/** Through the server that holds the data folder. */
export async function importOnServer(holder: LockHolder, args: ContactsImportArgs): Promise<BulkReportData> {
  const { API_PREFIX } = await import('../app.ts');
  const base = `${holder.url}${API_PREFIX}`;
  const auth = { authorization: `Bearer ${holder.adminToken}` };
  let clientId = args.clientId;
  if (clientId === undefined) {
    const listed = await answerOf(holder, await send(holder, fetch(`${base}/clients`, { headers: auth })));
    clientId = pickClient((listed.records as { ID: number }[]).map((c) => ({ id: c.ID })), undefined).id;
  }
  const query = new URLSearchParams({
    diallerCampaignsName: args.campaign, format: args.format, overwriteDuplicates: String(args.overwrite), resetDiallerState: String(args.reset),
  });
  const body = Readable.toWeb(fileStream(args.file)) as ReadableStream;
  const response = await send(holder, fetch(`${base}/clients/client/${clientId}/dialler/contacts/import/bulk?${query}`, {
    method: 'POST',
    headers: { ...auth, 'content-type': args.format === 'ndjson' ? 'application/x-ndjson' : 'text/csv' },
    body,
    duplex: 'half',
  } as RequestInit));
  return (await answerOf(holder, response)).records[0] as BulkReportData;
}

async function send(holder: LockHolder, pending: Promise<Response>): Promise<Response> {
  try {
    return await pending;
  } catch (error) {
    throw new StartFailure(`the data folder is held by a server (pid ${holder.pid}) that does not answer at ${holder.url}: ${(error as Error).message}`);
  }
}

async function answerOf(holder: LockHolder, response: Response): Promise<{ records: unknown[] }> {
  const answer = await response.json().catch(() => undefined) as { records?: unknown[]; error?: string } | undefined;
  if (!response.ok || !answer?.records) throw new StartFailure(answer?.error ?? `the running server (pid ${holder.pid}) answered ${response.status}`);
  return answer as { records: unknown[] };
}

/** The report on stdout (JSON); exit status 1 when rows were refused, so a script notices. */
export function printReport(report: BulkReportData): number {
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  return report.Rejected > 0 ? 1 : 0;
}

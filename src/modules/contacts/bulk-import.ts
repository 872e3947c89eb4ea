// A file of contacts into one campaign, batch by batch: each row passes the single import's
// checks (the same schema, then checkContact and prepareContacts), each batch is written in one
// transaction as sequential single imports would leave it (write-batch.ts). Memory holds two
// batches (one being written, one being read) and the report's first rows, whatever the file's size.
import type { Readable } from 'node:stream';
import { setImmediate as ioTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { ApiError, InvalidField } from '../../errors.ts';
import { toWire } from '../../http/error-handler.ts';
import { validatorCompiler } from '../../http/validation.ts';
import { checkContact, prepareContacts, type CheckedContact, type RowRejection } from './checks.ts';
import { FileFault, readRows, type FileRow } from './file-formats.ts';
import type { CampaignTarget } from './repository.ts';
import { BulkRowBody, MAX_REPORTED_ROWS, type BulkReportData, type FileFormat, type ImportContactInput } from './schemas.ts';
import { writeBatch } from './write-batch.ts';

type Db = Kysely<Database>;

const ROWS_PER_IO_TURN = 50;

/** Rows per transaction: large enough that a batch's statements cost little per row, small enough to keep locks short. */
export const importBatchSize = { rows: 1000 };

const validateRow = validatorCompiler({ schema: BulkRowBody, method: 'POST', url: 'bulk', httpPart: 'body' }) as
  ((value: unknown) => boolean) & { errors?: unknown[] | null };

export const BULK_FIELDS: ReadonlySet<string> = new Set(Object.keys((BulkRowBody as unknown as { properties: object }).properties));

const DECIMAL_INTEGER = /^-?(0|[1-9]\d*)$/;

/** A CSV cell is text; the fields the schema wants as numbers are read as numbers when written as such. */
function typedFromText(values: Record<string, unknown>): Record<string, unknown> {
  const priority = values.Priority;
  if (typeof priority === 'string' && DECIMAL_INTEGER.test(priority.trim())) values.Priority = Number(priority.trim());
  return values;
}

function unstorableField(values: Record<string, unknown>): string | undefined {
  for (const name in values) {
    const value = values[name];
    if (typeof value === 'string' && (value.includes('\u0000') || !value.isWellFormed())) return name;
  }
  return undefined;
}

/** The row checked as the single import checks its body, or why it is refused. */
function checkRow(values: Record<string, unknown>): CheckedContact | RowRejection {
  const bad = unstorableField(values);
  if (bad !== undefined) return { row: 0, field: bad, reason: 'must not contain NUL characters or unpaired surrogates' };
  if (!validateRow(values)) {
    const wire = toWire(Object.assign(new Error('invalid row'), { validation: validateRow.errors ?? [], validationContext: 'body' }));
    const detail = (wire.body.details as { field: string; message: string }[] | undefined)?.[0];
    return { row: 0, field: detail?.field ?? null, reason: detail?.message ?? 'is invalid' };
  }
  const derived = values.TimeZoneSource === 'Country' || values.TimeZoneSource === 'Campaign';
  try {
    return checkContact(values as ImportContactInput, derived);
  } catch (error) {
    if (error instanceof InvalidField) return { row: 0, field: error.details![0]!.field, reason: error.details![0]!.message };
    throw error;
  }
}

export interface BulkOptions {
  format: FileFormat;
  overwrite: boolean;
  reset: boolean;
  bodyLimit: number;
  now: () => number;
}

/** Tallies the report; keeps the first MAX_REPORTED_ROWS errors and do-not-call notes. */
class Report {
  readonly data: BulkReportData = { Rows: 0, Imported: 0, Overwritten: 0, Rejected: 0, Errors: [], DoNotCall: 0, DoNotCallRows: [] };
  reject(r: RowRejection): void {
    this.data.Rejected++;
    if (this.data.Errors.length < MAX_REPORTED_ROWS) this.data.Errors.push({ Row: r.row, Field: r.field, Reason: r.reason });
  }
  doNotCall(row: number, fields: string[]): void {
    if (fields.length === 0) return;
    this.data.DoNotCall++;
    for (const field of fields) {
      if (this.data.DoNotCallRows.length < MAX_REPORTED_ROWS) this.data.DoNotCallRows.push({ Row: row, Field: field, Reason: 'on the do-not-call list' });
    }
  }
}

export async function importFile(db: Db, clientId: number, campaign: CampaignTarget, body: Readable, options: BulkOptions): Promise<BulkReportData> {
  const report = new Report();
  let batch: { row: number; contact: CheckedContact }[] = [];
  // Rows refused by the checks wait for their batch, so the report lists errors in file order.
  let refused: RowRejection[] = [];
  const write = async (rows: typeof batch, early: RowRejection[]) => {
    const now = new Date(options.now());
    const { prepared, rejected } = rows.length === 0 ? { prepared: [], rejected: [] } : await prepareContacts(db, clientId, campaign.timeZone, rows, now);
    const written = prepared.length === 0 ? { outcomes: [], rejected: [] } : await db.transaction().execute((trx) => writeBatch(trx, clientId, campaign.id, prepared, { ...options, now }));
    for (const r of [...early, ...rejected, ...written.rejected].sort((a, b) => a.row - b.row)) report.reject(r);
    for (const o of written.outcomes) {
      report.data[o.kind]++;
      report.doNotCall(o.row, o.doNotCall);
    }
  };
  // One batch is written while the next one is read and checked: the database and the checks
  // work at the same time. Batches are written one after the other, in file order, so a row
  // sees every earlier batch committed (duplicates) and memory holds two batches at most.
  let inFlight: Promise<void> = Promise.resolve();
  let failure: { error: unknown } | undefined;
  const settle = async () => {
    await inFlight;
    if (failure) throw failure.error;
  };
  const flush = async () => {
    await settle();
    const rows = batch;
    const early = refused;
    batch = [];
    refused = [];
    inFlight = write(rows, early).catch((error: unknown) => { failure = { error }; });
  };
  const finish = async () => {
    await flush();
    await settle();
  };
  try {
    for await (const read of readRows(body, options.format, BULK_FIELDS, options.bodyLimit) as AsyncIterable<FileRow>) {
      report.data.Rows++;
      if ('fault' in read) {
        refused.push({ row: read.row, field: null, reason: `the row ${read.fault}` });
      } else {
        const checked = checkRow(options.format === 'ndjson' ? read.values : typedFromText(read.values));
        if ('reason' in checked) refused.push({ ...checked, row: read.row });
        else batch.push({ row: read.row, contact: checked });
      }
      if (batch.length + refused.length >= importBatchSize.rows) await flush();
      // Rows already read come through promises alone, which keep the database's answers
      // waiting: without a turn of the event loop now and then, each statement of the batch in
      // flight would wait for a whole chunk of the file to be checked before the next is sent.
      else if (report.data.Rows % ROWS_PER_IO_TURN === 0) await ioTurn();
    }
  } catch (error) {
    // A fault in the file's structure ends the reading; what came before it is imported.
    if (!(error instanceof FileFault)) {
      if (error instanceof ApiError && error.status === 400) {
        await settle().catch(() => undefined);
        throw error;
      }
      await finish().catch(() => undefined);
      throw error;
    }
    await finish();
    // The unreadable rest counts as one refused row, so Imported + Overwritten + Rejected = Rows.
    report.data.Rows++;
    report.reject({ row: report.data.Rows, field: null, reason: `reading stopped: ${error.message}` });
    return report.data;
  }
  await finish();
  return report.data;
}

// A campaign's contacts as a file, streamed: each batch is its own short keyset query on the id
// (as lists do), so a client that reads slowly holds no connection between batches, and the
// process holds one batch at a time.
import { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../db/schema.ts';
import { selectRecords } from '../../http/records.ts';
import { headerLine, recordLine } from './file-formats.ts';
import { ContactRecord } from './records.ts';
import type { FileFormat } from './schemas.ts';

export const exportBatchSize = { rows: 1000 };

export const EXPORT_FIELDS: readonly string[] = Object.keys(ContactRecord.fields);

export const CONTENT_TYPES: Record<FileFormat, string> = {
  csv: 'text/csv; charset=utf-8',
  semicolon: 'text/csv; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

async function* exportLines(db: Kysely<Database>, clientId: number, campaignId: number, format: FileFormat, timeZone: string): AsyncGenerator<string> {
  // The header goes out with the first batch, so the first query has run before the answer starts.
  let head = headerLine(EXPORT_FIELDS, format);
  let after = 0;
  for (;;) {
    const { rows } = await selectRecords(
      ContactRecord, timeZone,
      sql`k.client_id = ${clientId} AND k.campaign_id = ${campaignId} AND k.id > ${after}`,
      sql`ORDER BY k.id LIMIT ${exportBatchSize.rows}`,
      sql`k.id AS id`,
    ).execute(db) as { rows: { j: string; id: number }[] };
    if (rows.length === 0) {
      if (head) yield head;
      return;
    }
    yield head + rows.map((r) => recordLine(r.j, EXPORT_FIELDS, format)).join('');
    head = '';
    after = rows[rows.length - 1]!.id;
    if (rows.length < exportBatchSize.rows) return;
  }
}

/** The file as a byte stream; its first batch is read before the answer starts, so a failing query still answers an error. */
export async function exportContacts(db: Kysely<Database>, clientId: number, campaignId: number, format: FileFormat, timeZone: string): Promise<Readable> {
  const lines = exportLines(db, clientId, campaignId, format, timeZone);
  const first = await lines.next();
  async function* all(): AsyncGenerator<string> {
    if (first.done) return;
    yield first.value;
    yield* lines;
  }
  return Readable.from(all(), { objectMode: false });
}

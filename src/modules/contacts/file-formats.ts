// Contact files as they stream in and out: CSV (RFC 4180, comma), jtel's legacy semicolon format
// and NDJSON. jtel's reference documents no legacy layout, so we define it: CSV with `;` between
// fields, the same header row of jtel field names, numbers written plain (no quotes, no digit
// grouping), values quoted only when they hold `;`, `"` or a line break. Files are UTF-8, a BOM
// is skipped. Reading never holds more than a record (at most MAX_RECORD_BYTES) and the parser's
// chunk, so memory stays flat whatever the file's size.
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { ApiError, InvalidField } from '../../errors.ts';
import { nestsDeeperThan, MAX_BODY_DEPTH } from '../../http/json-body.ts';
import type { FileFormat } from './schemas.ts';

export const MAX_RECORD_BYTES = 1024 * 1024;

/** A data row as read: the row number (from 1, no header) and its fields by jtel name. */
export type FileRow = { row: number; values: Record<string, unknown> } | { row: number; fault: string };

/** Why reading stopped before the end of the file (malformed quoting, invalid UTF-8…). */
export class FileFault extends Error {}

export const PayloadTooLarge = (limit: number) => new ApiError('SB_PAYLOAD_TOO_LARGE', 413, `Request body is larger than ${limit} bytes`);

/**
 * Counts bytes against the limit and decodes strict UTF-8 (a file that is not UTF-8 would
 * otherwise be stored with replacement characters), dropping a leading BOM.
 */
function utf8Within(limit: number): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let bytes = 0;
  return new Transform({
    decodeStrings: true,
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      if (bytes > limit) return done(PayloadTooLarge(limit));
      try {
        const text = decoder.decode(chunk, { stream: true });
        if (text !== '') this.push(text);
        done();
      } catch {
        done(new FileFault(`the file is not valid UTF-8 (near byte ${bytes - chunk.length})`));
      }
    },
    flush(done) {
      try {
        const text = decoder.decode();
        if (text !== '') this.push(text);
        done();
      } catch {
        done(new FileFault('the file ends inside a UTF-8 character'));
      }
    },
  });
}

/** Reads the file's rows; `knownFields` are the header names a file may use. */
export async function* readRows(body: Readable, format: FileFormat, knownFields: ReadonlySet<string>, limit: number): AsyncGenerator<FileRow> {
  const decoded = utf8Within(limit);
  if (format === 'ndjson') {
    const done = pipeline(body, decoded).catch((error: unknown) => error);
    yield* ndjsonRows(decoded);
    const error = await done;
    if (error) throw error;
    return;
  }
  const parser = parse({
    delimiter: format === 'semicolon' ? ';' : ',', relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_RECORD_BYTES,
  });
  // Driven by hand rather than piped: a parse error destroys a piped parser together with the
  // records it had parsed before the fault, and those are to be imported.
  let parseError: unknown;
  parser.on('error', (error) => { parseError ??= error; });
  const done = pipeline(body, decoded).catch((error: unknown) => error);
  let header: string[] | undefined;
  let row = 0;
  function* drain(): Generator<FileRow> {
    for (let record: string[] | null; (record = parser.read() as string[] | null) !== null;) {
      if (!header) {
        header = checkHeader(record, knownFields);
        continue;
      }
      row++;
      if (record.length !== header.length) {
        yield { row, fault: `has ${record.length} fields, the header row ${header.length}` };
        continue;
      }
      const values: Record<string, unknown> = {};
      header.forEach((name, i) => { if (record![i] !== '') values[name] = record![i]; });
      yield { row, values };
    }
  }
  for await (const text of decoded as AsyncIterable<string>) {
    parser.write(text);
    yield* drain();
    if (parseError) throw faultOf(parseError, row + 1);
  }
  const cause = await done;
  if (cause) throw faultOf(cause, row + 1);
  // The last record and a quote left open only show once the parser has seen the end.
  await new Promise<void>((resolve) => {
    parser.once('finish', resolve);
    parser.once('error', () => resolve());
    parser.end();
  });
  yield* drain();
  if (parseError) throw faultOf(parseError, row + 1);
}

function faultOf(error: unknown, row: number): unknown {
  if (error instanceof ApiError || error instanceof FileFault) return error;
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('CSV_')) return new FileFault(`row ${row}: malformed CSV (${(error as Error).message})`);
  return error;
}

function checkHeader(names: string[], known: ReadonlySet<string>): string[] {
  const seen = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (!known.has(name)) throw new InvalidField(name || 'header', 'not a field of a dialler contact (header row)');
    if (seen.has(name)) throw new InvalidField(name, 'appears twice in the header row');
    seen.add(name);
  }
  return names.map((n) => n.trim());
}

async function* ndjsonRows(lines: AsyncIterable<string>): AsyncGenerator<FileRow> {
  let carry = '';
  let row = 0;
  const take = (line: string): FileRow | undefined => {
    row++;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.trim() === '') return undefined;
    if (nestsDeeperThan(text, MAX_BODY_DEPTH)) return { row, fault: `nests deeper than ${MAX_BODY_DEPTH} levels` };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { row, fault: 'is not valid JSON' };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { row, fault: 'is not a JSON object' };
    return { row, values: value as Record<string, unknown> };
  };
  for await (const chunk of lines) {
    let start = 0;
    let at: number;
    const text = carry + chunk;
    while ((at = text.indexOf('\n', start)) !== -1) {
      const out = take(text.slice(start, at));
      if (out) yield out;
      start = at + 1;
    }
    carry = text.slice(start);
    if (carry.length > MAX_RECORD_BYTES) throw new FileFault(`line ${row + 1} is longer than ${MAX_RECORD_BYTES} characters`);
  }
  const out = take(carry);
  if (out) yield out;
}

// ---- Writing ----

const NEEDS_QUOTES = { csv: /[",\r\n]/, semicolon: /[";\r\n]/ };

function cell(value: unknown, format: 'csv' | 'semicolon'): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return NEEDS_QUOTES[format].test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The header line of a file of `fields`; NDJSON has none. */
export function headerLine(fields: readonly string[], format: FileFormat): string {
  if (format === 'ndjson') return '';
  return fields.map((f) => cell(f, format)).join(format === 'csv' ? ',' : ';') + '\r\n';
}

/** One record (its JSON text, as the database built it) as a line of the file. */
export function recordLine(json: string, fields: readonly string[], format: FileFormat): string {
  if (format === 'ndjson') return json + '\n';
  const record = JSON.parse(json) as Record<string, unknown>;
  return fields.map((f) => cell(record[f], format)).join(format === 'csv' ? ',' : ';') + '\r\n';
}

// `switchboard contacts import`: on a data folder nobody holds it opens the store itself; while a
// server holds the folder it streams the file to that server. Either way the report goes to
// stdout, progress to stderr (a line per 10 % when stderr is no terminal).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/db/store.ts';

const CLI = new URL('../src/cli.ts', import.meta.url).pathname;

function cli(args: string[], dataDir: string) {
  return spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, DATABASE_URL: '', SWITCHBOARD_DATA_DIR: dataDir }, encoding: 'utf8' });
}

/** A client (through the CLI) with one campaign (straight into the store: there is no campaign command). */
async function provision(dataDir: string): Promise<number> {
  const created = cli(['clients', 'create', '--name', 'CLI client'], dataDir);
  assert.equal(created.status, 0, created.stderr);
  const clientId = Number(/ClientsID (\d+)/.exec(created.stdout)![1]);
  const store = await openStore({ dataDir });
  try {
    await store.db.insertInto('dialler_campaigns').values({ client_id: clientId, name: 'Spring', created_at: new Date(), updated_at: new Date() }).execute();
  } finally {
    await store.close();
  }
  return clientId;
}

async function contactNames(dataDir: string): Promise<string[]> {
  const store = await openStore({ dataDir });
  try {
    return (await store.db.selectFrom('dialler_contacts').select('name').orderBy('id').execute()).map((r) => r.name);
  } finally {
    await store.close();
  }
}

function file(dir: string, name: string, rows: number, extra = ''): string {
  const path = join(dir, name);
  const lines = Array.from({ length: rows }, (_, i) => `Contact ${i},030${1000 + i},K${i}`);
  writeFileSync(path, `Name,PhoneNumber1,UserData\n${lines.join('\n')}\n${extra}`);
  return path;
}

describe('switchboard contacts import', () => {
  it('opens the store itself when no server holds the folder: report on stdout, progress lines on stderr', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-contacts-cli-'));
    const dataDir = join(dir, 'data');
    try {
      await provision(dataDir);
      const ok = cli(['contacts', 'import', file(dir, 'spring.csv', 50), '--campaign', 'Spring'], dataDir);
      assert.equal(ok.status, 0, ok.stderr);
      const report = JSON.parse(ok.stdout);
      assert.deepEqual([report.Rows, report.Imported, report.Rejected], [50, 50, 0]);
      assert.match(ok.stderr, /sent 100% \(/);
      assert.ok(ok.stderr.split('\n').filter(Boolean).length <= 10, ok.stderr);

      const again = cli(['contacts', 'import', file(dir, 'again.txt', 3, 'Bad,12,X\n'), '--campaign', 'Spring', '--overwrite', '--format', 'csv'], dataDir);
      assert.equal(again.status, 1, 'rows were refused');
      const second = JSON.parse(again.stdout);
      assert.deepEqual([second.Overwritten, second.Rejected, second.Errors[0].Row, second.Errors[0].Field], [3, 1, 4, 'PhoneNumber1']);

      const ndjson = join(dir, 'more.ndjson');
      writeFileSync(ndjson, '{"Name":"From NDJSON","PhoneNumber1":"0309999"}\n');
      assert.equal(cli(['contacts', 'import', ndjson, '--campaign', 'Spring', '--client', '1'], dataDir).status, 0);
      const names = await contactNames(dataDir);
      assert.deepEqual([names.length, names.at(-1)], [51, 'From NDJSON']);

      const unknown = cli(['contacts', 'import', ndjson, '--campaign', 'Autumn'], dataDir);
      assert.equal(unknown.status, 1);
      assert.match(unknown.stderr, /^switchboard: client \d+ has no campaign named "Autumn"\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a wrong command line with exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-contacts-cli-usage-'));
    try {
      for (const [args, expected] of [
        [['contacts', 'import', 'x.csv'], /--campaign NAME/],
        [['contacts', 'import', '--campaign', 'A'], /needs a FILE/],
        [['contacts', 'import', 'x.csv', '--campaign', 'A', '--format', 'xml'], /--format must be one of csv, semicolon, ndjson/],
        [['contacts', 'import', 'x.csv', '--campaign', 'A', '--reset'], /--overwrite too/],
        [['contacts', 'import', 'x.csv', '--campaign', 'A', '--client', 'one'], /--client must be a ClientsID/],
      ] as const) {
        const result = cli([...args], join(dir, 'data'));
        assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
        assert.match(result.stderr, expected);
      }
      const help = cli(['contacts', '--help'], join(dir, 'data'));
      assert.match(help.stdout, /^Usage: switchboard contacts import FILE --campaign NAME/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('streams the file to the server that holds the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-contacts-cli-server-'));
    const dataDir = join(dir, 'data');
    await provision(dataDir);
    const server = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, SWITCHBOARD_DATA_DIR: dataDir, DATABASE_URL: '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', SWITCHBOARD_ADMIN_TOKEN: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let out = '';
      await new Promise<void>((resolve, reject) => {
        server.stdout.on('data', (chunk) => {
          out += chunk;
          if (/listening on/.test(out)) resolve();
        });
        server.on('exit', (code) => reject(new Error(`server exited early (${code}): ${out}`)));
      });
      const result = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [CLI, 'contacts', 'import', file(dir, 'big.csv', 2000), '--campaign', 'Spring'], {
          env: { ...process.env, DATABASE_URL: '', SWITCHBOARD_DATA_DIR: dataDir },
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => { stdout += c; });
        child.stderr.on('data', (c) => { stderr += c; });
        child.on('exit', (status) => resolve({ status, stdout, stderr }));
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(JSON.parse(result.stdout).Imported, 2000);
      assert.match(result.stderr, /sent 100%/);
    } finally {
      server.kill('SIGTERM');
      await once(server, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

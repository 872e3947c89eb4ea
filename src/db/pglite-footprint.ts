// A new embedded data folder starts from a prebuilt initdb output instead of PGlite's own initdb,
// which starts a second PostgreSQL (WebAssembly) beside the first and copies its heap: a first
// start is healthy about 10 s sooner on a 2-core machine (35.6 → 23.9 s side by side under load).
// Its peak RSS stays near 1 GB all the same; that peak comes later, from V8 compiling PGlite's
// WebAssembly during the first queries (README, Benchmarks). The template is
// made by `node scripts/pglite-template.ts` and is valid only for the PGlite version it was made
// with (the catalog must match the binary), so any other version falls back to PGlite's initdb.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'initdb');

/** The installed PGlite's version (its package.json does not export itself, so read it beside dist/). */
export function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const pkg = JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function templatePath(version = pgliteVersion()): string {
  return join(TEMPLATE_DIR, `pglite-${version}.tar.gz`);
}

/**
 * The initdb template for a data folder that has no cluster yet (PGlite's `loadDataDir`), or
 * undefined when the folder holds one or no template matches the installed PGlite.
 */
export function freshClusterTemplate(dataDir: string | undefined): Blob | undefined {
  if (dataDir && existsSync(join(dataDir, 'PG_VERSION'))) return undefined;
  const path = templatePath();
  return existsSync(path) ? new Blob([readFileSync(path)]) : undefined;
}

// Writes the initdb template for the installed PGlite (src/db/pglite-footprint.ts explains why):
// run it after upgrading @electric-sql/pglite; test/pglite-footprint.test.ts fails until then.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { templatePath } from '../src/db/pglite-footprint.ts';

const pglite = new PGlite();
await pglite.waitReady;
const dump = await pglite.dumpDataDir('gzip');
await pglite.close();
const path = templatePath();
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, Buffer.from(await dump.arrayBuffer()));
process.stdout.write(`${path}\n`);

// Writes or checks openapi.json, the OpenAPI 3.1 document generated from the route schemas.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from '../src/app.ts';
import { openStore } from '../src/db/store.ts';

const target = fileURLToPath(new URL('../openapi.json', import.meta.url));
const mode = process.argv[2];

const store = await openStore({ dataDir: 'memory://', migrate: false });
const app = await build({ store });
await app.ready();
const generated = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await store.close();

if (mode === 'write') {
  writeFileSync(target, generated);
  console.log(`wrote ${target}`);
} else {
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // missing file: reported below like any difference
  }
  if (committed !== generated) {
    console.error('openapi.json differs from what the routes generate: run `npm run openapi` and commit it.');
    process.exit(1);
  }
  console.log('openapi.json is up to date');
}

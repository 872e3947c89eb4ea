// A new embedded data folder starts from the prebuilt initdb template (src/db/pglite-footprint.ts):
// without it PGlite's own initdb runs and a first start peaks above 1 GB RSS again.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshClusterTemplate, pgliteVersion, templatePath } from '../src/db/pglite-footprint.ts';

describe('PGlite initdb template', () => {
  it('exists for the installed PGlite (after an upgrade: node scripts/pglite-template.ts)', () => {
    assert.ok(existsSync(templatePath(pgliteVersion())), `missing ${templatePath(pgliteVersion())}`);
  });

  it('is used for an empty folder and never over an existing cluster', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-template-'));
    try {
      assert.ok(freshClusterTemplate(dir) instanceof Blob);
      writeFileSync(join(dir, 'PG_VERSION'), '17\n');
      assert.equal(freshClusterTemplate(dir), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

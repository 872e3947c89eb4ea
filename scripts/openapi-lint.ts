// Lints openapi.json with Redocly's recommended ruleset: any error or warning fails, so the
// document stays clean as routes are added (an operation without operationId, an undescribed
// tag, an example that does not fit its schema…).
import { fileURLToPath } from 'node:url';
import { createConfig, lint } from '@redocly/openapi-core';

const file = fileURLToPath(new URL('../openapi.json', import.meta.url));
const config = await createConfig({ extends: ['recommended'] });
const problems = await lint({ ref: file, config });

for (const p of problems) {
  const where = p.location.map((l) => l.pointer).filter(Boolean).join(', ');
  console.error(`${p.severity} ${p.ruleId}: ${p.message}${where ? ` (${where})` : ''}`);
}
const errors = problems.filter((p) => p.severity === 'error').length;
const warnings = problems.filter((p) => p.severity === 'warn').length;
console.log(`openapi.json: ${errors} errors, ${warnings} warnings (Redocly recommended)`);
if (problems.length > 0) process.exit(1);

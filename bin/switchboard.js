#!/usr/bin/env node
// Switchboard runs TypeScript natively, which needs Node.js 24. The project pins it as a dev
// dependency, so `npx switchboard …` and the npm scripts find it first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(`switchboard needs Node.js 24 (this is ${process.version}); run it as \`npx switchboard\` inside the project.\n`);
  process.exit(1);
}
await import('../src/cli.ts');

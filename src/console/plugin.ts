// Serves the web console (spec §9) from the API's own server: `/` is the page, `/console/*` its
// script and style. The console is a browser application of its own (src/console/web) that talks
// to the server only through the public API and its streams, so it could as well be served apart.
// No build step for users: esbuild bundles it on the first request, in memory, and the bundle is
// kept for the life of the process (a failed build is retried on the next request).
import type { FastifyInstance, FastifyReply } from 'fastify';
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./web/main.tsx', import.meta.url));

export interface ConsoleBundle {
  js: string;
  css: string;
  /** Content hash of script and style: their URLs carry it, so they may be cached for good. */
  version: string;
}

export async function bundleConsole(): Promise<ConsoleBundle> {
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['es2022'],
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    outdir: 'out',
    write: false,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const js = result.outputFiles.find((f) => f.path.endsWith('.js'))?.text ?? '';
  const css = result.outputFiles.find((f) => f.path.endsWith('.css'))?.text ?? '';
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 16);
  return { js, css, version };
}

// The page never needs anything from elsewhere, and customer text (EventData) is shown as text
// only; the policy is the second line of defence should that ever slip.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
  + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const page = (version: string) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard</title>
<link rel="stylesheet" href="/console/app.${version}.css">
<script type="module" src="/console/app.${version}.js"></script>
</head>
<body>
<div id="app"></div>
<noscript>Switchboard's console needs JavaScript.</noscript>
</body>
</html>
`;

const security = (reply: FastifyReply) => reply
  .header('content-security-policy', CSP)
  .header('x-content-type-options', 'nosniff')
  .header('referrer-policy', 'no-referrer');

export async function consolePlugin(app: FastifyInstance): Promise<void> {
  let pending: Promise<ConsoleBundle> | undefined;
  const bundle = () => {
    pending ??= bundleConsole().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };

  // Hidden from the OpenAPI document: these are pages, not API.
  app.get('/', { schema: { hide: true } }, async (_request, reply) => {
    const { version } = await bundle();
    return security(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(page(version));
  });

  app.get<{ Params: { file: string } }>('/console/:file', { schema: { hide: true } }, async (request, reply) => {
    const current = await bundle();
    const match = /^app\.([0-9a-f]{16})\.(js|css)$/.exec(request.params.file);
    if (!match || match[1] !== current.version) return reply.code(404).send('');
    security(reply).header('cache-control', 'public, max-age=31536000, immutable');
    return match[2] === 'js'
      ? reply.type('text/javascript; charset=utf-8').send(current.js)
      : reply.type('text/css; charset=utf-8').send(current.css);
  });
}

// The README's curl lines and the start banner's work as printed, on any day: a fresh demo server
// is started the way `npm start` starts it, and every curl line of the README's shell blocks runs
// through bash in order (variables carry over, as in a reader's shell) and must answer 2xx with
// the shape the README promises.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, serve, serverEnv, stop, type Served } from './faults/process-support.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const STREAM_SECONDS = 2;

interface Banner {
  base: string;
  clientToken: string;
  /** The web console's address. */
  console: string;
  curls: string[];
  /** What the server printed before the banner. */
  before: string;
  /** All it printed. */
  text: string;
}

/** Curl commands of the README's ```sh blocks (continuations joined), and `X=$(curl …)` lines. */
export function readmeCommands(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const joined = block[1]!.replace(/\\\n\s*/g, '');
    for (const line of joined.split('\n')) {
      const command = line.trim();
      if (/^curl /.test(command) || /^[A-Z]=\$\(curl /.test(command)) commands.push(command);
    }
  }
  return commands;
}

/** Starts `serve --demo` as `npm start` does (its own log level) on an empty folder and reads its banner. */
async function startDemo(dataDir: string, port: number): Promise<{ server: Served; banner: Banner }> {
  const server = await serve(serverEnv({ SWITCHBOARD_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: process.env.LOG_LEVEL }), ['--demo']);
  const out = server.out;
  // The banner ends with the last agent's line of work, the web console's address and a blank line.
  const match = /Client token:\s+(\S+)[\s\S]*Agent dora\.dialler[^\n]*\n\s+curl[^\n]*\n\s+Web console:\s+(\S+)[^\n]*\n\n/.exec(out);
  if (!match) {
    await stop(server, 'SIGTERM', 10_000);
    throw new Error(`the demo banner is incomplete: ${out}`);
  }
  return {
    server,
    banner: {
      base: /Base URL:\s+(\S+)/.exec(out)![1]!,
      clientToken: match[1]!,
      console: match[2]!,
      curls: out.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('curl ')),
      text: out,
      before: out.slice(0, out.indexOf('Switchboard listening on')),
    },
  };
}

interface Answer {
  command: string;
  output: string;
  exitCode: number;
}

/**
 * Runs the commands one after another in one bash (so `A=$(…)` carries over), a reader's pause
 * between them; streams are cut after a few seconds. Each assignment prints what it assigned.
 */
async function runInBash(commands: string[], vars: Record<string, string>): Promise<Answer[]> {
  const script = [
    'set -u',
    ...Object.entries(vars).map(([name, value]) => `${name}='${value}'`),
    ...commands.flatMap((command, i) => {
      const runnable = command.includes(' -N ') ? command.replace(/^curl /, `curl --max-time ${STREAM_SECONDS} `) : command;
      const assigned = /^([A-Z])=\$\(/.exec(command)?.[1];
      return [
        `printf '\\n@@begin ${i}@@\\n'`,
        runnable,
        `rc=$?`,
        ...(assigned ? [`printf '%s' "$${assigned}"`] : []),
        `printf '\\n@@end ${i} %s@@\\n' "$rc"`,
        'sleep 0.2',
      ];
    }),
  ].join('\n');
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { timeout: 60_000, maxBuffer: 16 * 2 ** 20 });
  return commands.map((command, i) => {
    const match = new RegExp(`@@begin ${i}@@\\n([\\s\\S]*?)\\n@@end ${i} (\\d+)@@`).exec(stdout);
    assert.ok(match, `no answer recorded for: ${command}`);
    return { command, output: match[1]!, exitCode: Number(match[2]) };
  });
}

/** What every answer must look like; returns the parsed JSON body when there is one. */
function checkAnswer({ command, output, exitCode }: Answer): unknown {
  const why = `${command}\n→ exit ${exitCode}: ${output.slice(0, 500)}`;
  if (command.includes(' -N ')) {
    // curl ends with 28 when --max-time cuts the stream; the stream must have opened.
    assert.equal(exitCode, 28, why);
    assert.match(output, /^(retry|id|event|data|:)/m, why);
    return undefined;
  }
  assert.equal(exitCode, 0, why);
  if (/^[AD]=/.test(command)) {
    assert.match(output, /^sbs_[\w-]+$/, why);
    return undefined;
  }
  if (/^[ECN]=/.test(command)) {
    assert.match(output, /^\d+$/, why);
    return undefined;
  }
  const body = JSON.parse(output) as { status?: number; error?: unknown };
  assert.equal(body.error, undefined, why);
  assert.ok(body.status === undefined || (body.status >= 200 && body.status < 300), why);
  return body;
}

describe('README commands against a fresh demo', { timeout: 120_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'sb-readme-'));
  let server: Served | undefined;
  let banner: Banner;

  before(async () => {
    ({ server, banner } = await startDemo(dataDir, await freePort()));
  });

  after(async () => {
    if (server) await stop(server, 'SIGTERM', 10_000);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const commands = readmeCommands(readme);

  it('finds the README\'s examples and agent flow, with no fixed dates', () => {
    assert.ok(commands.length >= 20, `only ${commands.length} curl lines found`);
    for (const command of commands) assert.doesNotMatch(command, /\d{4}-\d{2}-\d{2}/, `a fixed date goes stale: ${command}`);
  });

  it('shows the banner unburied: the demo\'s seeding logs no request lines', () => {
    assert.doesNotMatch(banner.before, /incoming request|request completed/, banner.before.slice(0, 500));
  });

  // First, as a reader would: a new password for anna (the README's flow) ends her banner session.
  it('runs the start banner\'s curl lines as printed', async () => {
    assert.equal(banner.curls.length, 4, banner.curls.join('\n'));
    const answers = await runInBash(banner.curls, {});
    for (const answer of answers) {
      const body = checkAnswer(answer) as { records?: unknown[] };
      assert.ok(Array.isArray(body.records), answer.command);
    }
  });

  it('serves the web console at the banner\'s address, and the demo supervisor signs in', async () => {
    const page = await fetch(banner.console);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<div id="app">/);
    const supervisor = /supervisor (\S+), password (\S+)\)/.exec(banner.text)!;
    const signIn = await fetch(`${banner.base}/console/session`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ UID: supervisor[1], Password: supervisor[2] }),
    });
    assert.equal(signIn.status, 200);
    assert.equal((await signIn.json()).records[0].Role, 'supervisor');
  });

  it('runs every README curl line in order, each answering 2xx with the promised shape', async () => {
    const answers = await runInBash(commands, { B: banner.base, T: banner.clientToken });
    const bodies = answers.map(checkAnswer) as ({ records?: Record<string, unknown>[] } | undefined)[];
    const recordOf = (fragment: string) => bodies[commands.findIndex((c) => c.includes(fragment))]?.records?.[0];
    // Example 2 must create, not be taken for a duplicate of a demo event.
    assert.equal(recordOf('"dtAppointmentTime":"09:30"')?.Result_, 'CREATED');
    // A reader slower than jtel's 30 s default must still find the offer there to accept.
    assert.ok(Number(recordOf('/acd/groups/group?name=serv')?.OfferTimeoutSeconds) >= 600, 'the demo gives an agent time to read');
    assert.equal(recordOf('/accept"')?.AcdEventStatusID, 20);
    assert.equal(recordOf('/remind"')?.AcdEventStatusID, 40);
    assert.equal(recordOf('/done"')?.AcdEventStatusID, 99);
    // The dialler flow: Dora holds a contact in preview, dials the number named, and the Delay
    // bound to her leaves the contact waiting for later.
    assert.equal((recordOf('"$B/agents/me/dialler"')?.Contacts as { HoldKind: string }[])[0]?.HoldKind, 'Preview');
    assert.match(String(recordOf('/start"')?.PhoneNumber), /^\+\d+$/);
    assert.equal(recordOf('/result"')?.bRepeated, false);
    assert.equal(recordOf('/whyNot"')?.Reason, 'DelayPending');
  });
});

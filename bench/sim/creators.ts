// Event creators: POST /acd/events/create from concurrent loops, with retries across servers.
import { setTimeout as sleep } from 'node:timers/promises';
import { TransportError, type Api, type Reply } from './api.ts';
import type { Tenant } from './provision.ts';

export interface CreateOptions {
  apis: Api[];
  tenant: Tenant;
  count: number;
  concurrency: number;
  /** The create body of event i. */
  body(i: number): Record<string, unknown>;
  /** The server event i is first sent to. */
  server?(i: number): number;
  /** Pause before each create (ms), to pace the load instead of flooding. */
  gapMs?: number;
  onCreated?(i: number, id: number): void;
}

export interface CreateResult {
  /** ID the API acknowledged for event i (200). */
  ids: number[];
  /** Date.now() when the acknowledged attempt of event i was sent. */
  sentAt: number[];
  /** Date.now() when its 200 answer arrived. */
  answeredAt: number[];
  transportErrors: number;
  httpErrors: number;
  retries: number;
  seconds: number;
}

/**
 * POST /acd/events/create `count` times from `concurrency` loops. A transport error or a 5xx is
 * retried on the next server (the first attempt may or may not have stored an event; the audit
 * counts such extra rows); any 4xx is a bug in the script and ends the run.
 */
export async function createEvents(o: CreateOptions): Promise<CreateResult> {
  const result: CreateResult = { ids: new Array(o.count), sentAt: new Array(o.count), answeredAt: new Array(o.count), transportErrors: 0, httpErrors: 0, retries: 0, seconds: 0 };
  const started = performance.now();
  let next = 0;
  const loop = async () => {
    for (let i = next++; i < o.count; i = next++) {
      if (o.gapMs) await sleep(o.gapMs);
      let server = (o.server?.(i) ?? i) % o.apis.length;
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) result.retries++;
        if (attempt > 200) throw new Error(`create ${i}: gave up after ${attempt} attempts`);
        const sentAt = Date.now();
        let reply: Reply;
        try {
          reply = await o.apis[server].call('POST', `${o.tenant.base}/acd/events/create`, o.tenant.token, o.body(i));
        } catch (error) {
          if (!(error instanceof TransportError)) throw error;
          result.transportErrors++;
          server = (server + 1) % o.apis.length;
          await sleep(20);
          continue;
        }
        if (reply.status === 200) {
          const id = reply.body.records[0].ID as number;
          result.ids[i] = id;
          result.sentAt[i] = sentAt;
          result.answeredAt[i] = Date.now();
          o.onCreated?.(i, id);
          break;
        }
        if (reply.status < 500) throw new Error(`create ${i}: HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
        result.httpErrors++;
        server = (server + 1) % o.apis.length;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, loop));
  result.seconds = (performance.now() - started) / 1000;
  return result;
}

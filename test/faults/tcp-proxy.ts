// A TCP proxy a fault test puts between a server and its database, to make the database
// unreachable and bring it back without touching the machine's PostgreSQL (which others use).
import net from 'node:net';

export type ProxyMode = 'open' | 'refuse' | 'blackhole';

export class TcpProxy {
  readonly #target: { host: string; port: number };
  /** The client side of every connection. */
  readonly #pairs = new Set<net.Socket>();
  readonly #upstreams = new Set<net.Socket>();
  #server: net.Server | null = null;
  #port = 0;
  #mode: ProxyMode = 'open';
  /** Connections accepted since the proxy started (forwarded or swallowed). */
  accepted = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** A proxy to `target` listening on a free port of 127.0.0.1. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.#listen();
    return proxy;
  }

  get port(): number {
    return this.#port;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.#port);
    return url.toString();
  }

  /** Resets every open connection, as a restarted server or a dropped route would. */
  cut(): number {
    const n = this.#pairs.size;
    for (const socket of this.#pairs) socket.resetAndDestroy();
    this.#pairs.clear();
    return n;
  }

  /** The server is gone: open connections are reset and new ones refused (ECONNREFUSED). */
  async refuse(): Promise<void> {
    this.#mode = 'refuse';
    const server = this.#server;
    this.#server = null;
    this.cut();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * The network swallows everything: open connections are reset, new ones are accepted and then
   * never answered, so a client without a timeout waits forever.
   */
  async blackhole(): Promise<void> {
    if (!this.#server) await this.#listen();
    this.cut();
    this.#mode = 'blackhole';
  }

  /**
   * The route goes silent without a word: open connections stay open but nothing passes any more
   * (no reset, no close), and new ones are swallowed.
   */
  freeze(): void {
    this.#mode = 'blackhole';
    for (const socket of this.#pairs) {
      socket.unpipe();
      socket.pause();
    }
    for (const upstream of this.#upstreams) {
      upstream.unpipe();
      upstream.pause();
    }
  }

  /** Forwarding again, on the same port; connections swallowed meanwhile are reset. */
  async restore(): Promise<void> {
    this.cut();
    this.#mode = 'open';
    if (!this.#server) await this.#listen();
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  async #listen(): Promise<void> {
    const server = net.createServer((socket) => this.#accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => resolve());
    });
    this.#port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  #accept(client: net.Socket): void {
    this.accepted++;
    this.#pairs.add(client);
    client.on('error', () => undefined);
    client.on('close', () => this.#pairs.delete(client));
    if (this.#mode !== 'open') return; // swallowed: held open, never forwarded
    const upstream = net.connect(this.#target.port, this.#target.host);
    this.#upstreams.add(upstream);
    upstream.on('close', () => this.#upstreams.delete(upstream));
    upstream.on('error', () => client.resetAndDestroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

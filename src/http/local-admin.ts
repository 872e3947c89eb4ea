// The admin token a server on the embedded store hands to command-line commands on its host.
// Such a server owns its data folder alone, so `switchboard clients token 1` cannot open the
// folder while it runs and asks the server instead; the admin token in clear exists nowhere
// (only its hash is stored). The server makes a token of its own at start, valid only while that
// process lives and never stored, and writes it into the folder's lock file (mode 0600): whoever
// can read that file can read the whole data folder anyway.
import type { Store } from '../db/store.ts';
import { hashMatches, hashToken, newToken } from '../domain/tokens.ts';

const hashes = new WeakMap<Store, string>();

/** Makes the process-local admin token for the server on `store`; returns it in clear. */
export function issueLocalAdminToken(store: Store): string {
  const token = newToken('sbl');
  hashes.set(store, hashToken(token));
  return token;
}

export function isLocalAdminToken(store: Store, token: string): boolean {
  return hashMatches(hashToken(token), hashes.get(store));
}

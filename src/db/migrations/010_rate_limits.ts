// Request limits shared by every instance on one PostgreSQL (src/modules/limits/): one row per
// limited key (a client, a login address, a login UID) holding what has been handed out in its
// current window. Instances lease slices of a key's allowance and spend them in memory, so a
// request reaches this table only when its instance's slice is used up (see allowance.ts).
// The window is counted on the database's clock, so instances whose clocks differ agree on it.
import { statementsMigration } from './statements.ts';

const UP: string[] = [
  `CREATE TABLE rate_limits (
        key text PRIMARY KEY,
        window_index bigint NOT NULL,
        window_ms integer NOT NULL,
        quota integer NOT NULL,
        hits integer NOT NULL,
        granted integer NOT NULL,
        expires_at timestamptz NOT NULL
      )`,
  // Keys nobody uses again (a login address seen once) are swept once their window has ended.
  'CREATE INDEX rate_limits_expires ON rate_limits (expires_at)',
];

const DOWN: string[] = ['DROP TABLE rate_limits'];

export const { up, down } = statementsMigration(UP, DOWN);

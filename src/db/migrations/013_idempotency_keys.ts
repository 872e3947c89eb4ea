// Idempotency keys (src/modules/idempotency/): one row per key a caller sent with a POST or PATCH,
// in the caller's scope, for 24 h. The row is claimed by INSERT … ON CONFLICT DO NOTHING, so of
// any number of instances exactly one runs the request; the others read the row. Neither the key
// nor the answer is readable here: the key is stored as its SHA-256, the answer encrypted with a
// key derived from it (a client's create or token rotation answers with a token).
import { statementsMigration } from './statements.ts';

const UP: string[] = [
  `CREATE TABLE idempotency_keys (
        scope text NOT NULL,
        key_hash text NOT NULL,
        request_hash text NOT NULL,
        body_hash text,
        body_length bigint,
        claim uuid NOT NULL,
        locked_until timestamptz,
        status smallint,
        answer text,
        created_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (scope, key_hash)
      )`,
  'CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at)',
];

const DOWN: string[] = ['DROP TABLE idempotency_keys'];

export const { up, down } = statementsMigration(UP, DOWN);

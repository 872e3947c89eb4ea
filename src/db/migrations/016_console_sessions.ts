// Web console (spec §9): a user's role, and browser sessions held in agent_sessions. A console
// session is an agent session with a CSRF token's hash: one table, one expiry rule, and every way
// an agent session ends (logout, a new password, the user's deletion) ends it too.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE users ADD COLUMN role text NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'supervisor'))`.execute(db);
  // NULL: a bearer session (POST …/agents/login); set: a console session, reached only by its cookie.
  await sql`ALTER TABLE agent_sessions ADD COLUMN csrf_hash text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE agent_sessions DROP COLUMN csrf_hash`.execute(db);
  await sql`ALTER TABLE users DROP COLUMN role`.execute(db);
}

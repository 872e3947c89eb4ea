// Webhooks: an endpoint's pace. Set when a send to it was slow or got no answer, cleared by its
// next fast answer; while set, every instance gives the endpoint only a few sends in flight, so a
// slow or dead endpoint cannot hold the slots the others need (claimDue, src/webhooks/sql.ts).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_subscriptions ADD COLUMN slow_since timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_subscriptions DROP COLUMN slow_since`.execute(db);
}

// jtel's group record carries QueueOffhookAnnouncementID (seen in its group examples).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE acd_groups ADD COLUMN queue_offhook_announcement_id integer`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE acd_groups DROP COLUMN queue_offhook_announcement_id`.execute(db);
}

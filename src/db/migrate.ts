import type { Kysely } from 'kysely';
import { Migrator, type Migration, type MigrationProvider } from 'kysely/migration';
import * as initial from './migrations/001_initial.ts';
import * as queueOffhookAnnouncement from './migrations/002_queue_offhook_announcement.ts';
import * as agents from './migrations/003_agents.ts';
import * as distribution from './migrations/004_distribution.ts';
import * as hotPath from './migrations/005_hot_path.ts';
import * as agentFinishes from './migrations/006_agent_finishes.ts';
import * as lighterFeed from './migrations/007_lighter_feed.ts';
import * as fedHistory from './migrations/008_fed_history.ts';
import * as eventReferences from './migrations/009_event_references.ts';
import * as rateLimits from './migrations/010_rate_limits.ts';
import * as oneChangeRecord from './migrations/011_one_change_record.ts';
import * as diallerEngine from './migrations/012_dialler_engine.ts';
import * as idempotencyKeys from './migrations/013_idempotency_keys.ts';
import * as webhooks from './migrations/014_webhooks.ts';
import * as diallerCounts from './migrations/015_dialler_counts.ts';
import * as consoleSessions from './migrations/016_console_sessions.ts';
import * as webhookPace from './migrations/017_webhook_pace.ts';

// Listed here rather than read from a folder, so migrations work the same from any working dir.
const migrations: Record<string, Migration> = {
  '001_initial': initial,
  '002_queue_offhook_announcement': queueOffhookAnnouncement,
  '003_agents': agents,
  '004_distribution': distribution,
  '005_hot_path': hotPath,
  '006_agent_finishes': agentFinishes,
  '007_lighter_feed': lighterFeed,
  '008_fed_history': fedHistory,
  '009_event_references': eventReferences,
  '010_rate_limits': rateLimits,
  '011_one_change_record': oneChangeRecord,
  '012_dialler_engine': diallerEngine,
  '013_idempotency_keys': idempotencyKeys,
  '014_webhooks': webhooks,
  '015_dialler_counts': diallerCounts,
  '016_console_sessions': consoleSessions,
  '017_webhook_pace': webhookPace,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

/** The newest migration this code knows (a running server records the one it applied). */
export const LATEST_MIGRATION = Object.keys(migrations).at(-1)!;

/** Applies every pending migration; safe to run from many instances at once (Kysely locks). */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

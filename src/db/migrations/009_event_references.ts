// Events no longer check their client, groups and agents with foreign keys; the statements that
// write those references lock what they reference instead, once per statement.
// A foreign key checks every written row on its own: a lookup and a lock (FOR KEY SHARE, a WAL
// record) of the referenced row, per row and per key. A create named its client, its group twice
// (group and queue group) and an offer its agent, so under load those checks were about a sixth
// of the server's work per event, spent locking the same few rows over and over.
// What guarded them is now done by the writers (each says so where it writes):
// - creates lock their target groups (and the addressed user) FOR KEY SHARE in the inserting
//   statement, once per batch (src/modules/events/guarded-create.ts, createUnlessOpenDuplicate);
//   a group's delete takes FOR UPDATE, so it and a create of that group serialise as before, and
//   a client's groups go with the client;
// - offers go only to agents whose state row the dispatcher holds locked, and deleting a user
//   takes that lock first (src/modules/users/service.ts); forwards and reassignments share-lock
//   the group and user they name (src/modules/work/service.ts).
// The delete actions stay: statement triggers do what ON DELETE SET NULL and CASCADE did.
import { statementsMigration, statementTrigger } from './statements.ts';

const REFERENCES: [column: string, target: string, action: string][] = [
  ['client_id', 'clients', 'CASCADE'],
  ['group_id', 'acd_groups', 'SET NULL'],
  ['configuration_group_id', 'acd_groups', 'SET NULL'],
  ['agent_group_id', 'acd_groups', 'SET NULL'],
  ['queue_group_id', 'acd_groups', 'SET NULL'],
  ['user_id', 'users', 'SET NULL'],
  // Named for the column's first name (migration 004 renamed it to agent_id).
  ['agent_id', 'users', 'SET NULL'],
];

const constraintOf = (column: string) => `acd_events_${column === 'agent_id' ? 'offered_user_id' : column}_fkey`;

const GROUP_COLUMNS = ['group_id', 'configuration_group_id', 'agent_group_id', 'queue_group_id'];
const USER_COLUMNS = ['user_id', 'agent_id'];

/** Events' columns set to NULL where they name one of the deleted rows. */
const clearing = (columns: string[]) => `UPDATE acd_events SET ${columns.map(
  (c) => `${c} = CASE WHEN ${c} IN (SELECT id FROM old_rows) THEN NULL ELSE ${c} END`).join(', ')}
        WHERE ${columns.map((c) => `${c} IN (SELECT id FROM old_rows)`).join(' OR ')}`;

const UP: string[] = [
  ...REFERENCES.map(([column]) => `ALTER TABLE acd_events DROP CONSTRAINT ${constraintOf(column)}`),
  ...statementTrigger({
    name: 'forget_client_events', on: 'clients', event: 'DELETE', trigger: 'clients_forget_events',
    body: 'DELETE FROM acd_events WHERE client_id IN (SELECT id FROM old_rows)',
  }),
  ...statementTrigger({
    name: 'forget_group_in_events', on: 'acd_groups', event: 'DELETE', trigger: 'acd_groups_forget_in_events', body: clearing(GROUP_COLUMNS),
  }),
  ...statementTrigger({
    name: 'forget_user_in_events', on: 'users', event: 'DELETE', trigger: 'users_forget_in_events', body: clearing(USER_COLUMNS),
  }),
];

const DOWN: string[] = [
  'DROP TRIGGER users_forget_in_events ON users',
  'DROP FUNCTION forget_user_in_events()',
  'DROP TRIGGER acd_groups_forget_in_events ON acd_groups',
  'DROP FUNCTION forget_group_in_events()',
  'DROP TRIGGER clients_forget_events ON clients',
  'DROP FUNCTION forget_client_events()',
  ...REFERENCES.map(([column, target, action]) =>
    `ALTER TABLE acd_events ADD CONSTRAINT ${constraintOf(column)} FOREIGN KEY (${column}) REFERENCES ${target}(id) ON DELETE ${action}`),
];

export const { up, down } = statementsMigration(UP, DOWN);

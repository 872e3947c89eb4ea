// When an agent last finished a piece of work (LastAgentTime, the moment longest-idle distribution
// measures from) moves out of agent_states into a table of its own. The dispatcher holds the
// state rows of a group's agents locked for its whole transaction; finishing an event wrote the
// same row, so every "done" queued behind every dispatch of the agent's groups. Nothing needs
// the finishing time under that lock: a dispatcher reads it as of its own read.
import { statementsMigration } from './statements.ts';

const UP: string[] = [
  `CREATE TABLE agent_finishes (
        user_id integer PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        last_agent_time timestamptz NOT NULL
      )`,
  `INSERT INTO agent_finishes (user_id, last_agent_time)
      SELECT user_id, last_agent_time FROM agent_states WHERE last_agent_time IS NOT NULL`,
  'ALTER TABLE agent_states DROP COLUMN last_agent_time',
];

const DOWN: string[] = [
  'ALTER TABLE agent_states ADD COLUMN last_agent_time timestamptz',
  `UPDATE agent_states s SET last_agent_time = f.last_agent_time FROM agent_finishes f WHERE f.user_id = s.user_id`,
  'DROP TABLE agent_finishes',
];

export const { up, down } = statementsMigration(UP, DOWN);

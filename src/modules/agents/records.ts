// The agent state record [ours, jtel-style names]: one per user of the client, whether or not the
// user has ever logged in (a user without a state row is logged out with the default capacity).
import { Type } from 'typebox';
import { compactNumberMap, defineRecord, field } from '../../http/records.ts';

export const EVENT_TYPE_IDS = [1, 2, 3, 4, 5, 6, 7] as const;
export const CAPACITY_MAX = 100;
export const DEFAULT_CAPACITY: Record<string, number> = Object.fromEntries(EVENT_TYPE_IDS.map((id) => [String(id), 1]));

const capacityProperties = Object.fromEntries(EVENT_TYPE_IDS.map((id) => [String(id), Type.Integer({ minimum: 0, maximum: CAPACITY_MAX })]));

export const CapacityMap = Type.Object(capacityProperties, {
  required: EVENT_TYPE_IDS.map(String),
  additionalProperties: false,
  description: 'Open events the agent may hold at once, per AcdEventTypesID (default 1 each; 0 = none of that type)',
});

const GroupStates = Type.Array(
  Type.Object(
    { AcdGroupsID: Type.Integer(), Name: Type.String({ description: "The group's Name [ours]" }), bLoggedIn: Type.Boolean() },
    { additionalProperties: false },
  ),
  { description: 'Every ACD group the user is a member of, and whether they are logged in to it' },
);

const defaultCapacitySql = `'${JSON.stringify(DEFAULT_CAPACITY)}'::jsonb`;

export const AgentRecord = defineRecord(
  'Agent',
  {
    UsersID: field.int('u.id'),
    UID: field.text('u.uid'),
    bLoggedIn: field.bool('coalesce(a.b_logged_in, false)', { description: 'Logged in to the ACD as a whole' }),
    AcdGroups: field.json(
      // array_to_json/row_to_json print compact JSON; json_agg and json_build_object add spaces.
      `(SELECT coalesce(array_to_json(array_agg(row_to_json(x) ORDER BY x."AcdGroupsID")), '[]'::json)
        FROM (SELECT m.group_id AS "AcdGroupsID", g.name AS "Name", l.user_id IS NOT NULL AS "bLoggedIn"
              FROM acd_group_members m JOIN acd_groups g ON g.id = m.group_id
              LEFT JOIN agent_group_logins l ON l.group_id = m.group_id AND l.user_id = m.user_id
              WHERE m.user_id = u.id) x)`,
      GroupStates,
    ),
    Capacity: field.json(compactNumberMap(`coalesce(a.capacity, ${defaultCapacitySql})`), CapacityMap),
    LastAgentTime: field.timestamp('f.last_agent_time', { nullable: true, description: 'When the agent last finished a piece of work' }),
    dtLastStateChange: field.timestamp('a.last_state_change_at', { nullable: true, description: 'Last login or logout, of the ACD or a group' }),
  },
  { from: 'users u LEFT JOIN agent_states a ON a.user_id = u.id LEFT JOIN agent_finishes f ON f.user_id = u.id', clientColumn: 'u.client_id', idColumn: 'u.id', defaultOrderBy: 'UID' },
);

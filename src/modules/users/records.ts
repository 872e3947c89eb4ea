// The jtel User record plus [ours] the user's ACD group memberships with their skills.
import { Type } from 'typebox';
import { compactNumberMap, defineRecord, field } from '../../http/records.ts';
import { skillMap } from '../groups/records.ts';

const Memberships = Type.Array(
  Type.Object({ AcdGroupsID: Type.Integer(), Skills: skillMap() }, { additionalProperties: false }),
  { description: 'The ACD groups the user is a member of, with the skills held there' },
);

export const UserRecord = defineRecord(
  'User',
  {
    ID: field.int('u.id'),
    UID: field.text('u.uid', { description: 'Login name, unique in the client' }),
    FirstName: field.text('u.first_name', { nullable: true }),
    LastName: field.text('u.last_name', { nullable: true }),
    Email: field.text('u.email', { nullable: true }),
    TelStatusID: field.int('u.tel_status_id'),
    ResellersID: field.int('u.resellers_id', { nullable: true }),
    Role: field.text('u.role', { description: 'agent (the agent desk) or supervisor (the supervisor view) in the web console [ours]' }),
    AcdGroups: field.json(
      // array_to_json/row_to_json print compact JSON; json_agg and json_build_object add spaces.
      `(SELECT coalesce(array_to_json(array_agg(row_to_json(x) ORDER BY x."AcdGroupsID")), '[]'::json)
        FROM (SELECT m.group_id AS "AcdGroupsID", ${compactNumberMap('m.skills')} AS "Skills"
              FROM acd_group_members m WHERE m.user_id = u.id) x)`,
      Memberships,
    ),
    dtCreated: field.timestamp('u.created_at'),
    dtLastModified: field.timestamp('u.updated_at'),
  },
  { from: 'users u', clientColumn: 'u.client_id', idColumn: 'u.id', defaultOrderBy: 'UID' },
);

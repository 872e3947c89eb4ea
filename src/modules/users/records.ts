// The jtel User record plus [ours] the user's ACD group memberships with their skills.
import { Type } from 'typebox';
import { defineRecord, field } from '../../http/records.ts';
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
    AcdGroups: field.json(
      `(SELECT coalesce(json_agg(json_build_object('AcdGroupsID', m.group_id, 'Skills', m.skills) ORDER BY m.group_id), '[]'::json)
        FROM acd_group_members m WHERE m.user_id = u.id)`,
      Memberships,
    ),
    dtCreated: field.timestamp('u.created_at'),
    dtLastModified: field.timestamp('u.updated_at'),
  },
  { from: 'users u', clientColumn: 'u.client_id', idColumn: 'u.id', defaultOrderBy: 'UID' },
);

// The wallboard record [ours, spec §9's supervisor view]: one per ACD group of the client.
import { Type } from 'typebox';

export const AGENT_STATES = ['Idle', 'Offered', 'Busy', 'LoggedOut'] as const;
export type AgentState = (typeof AGENT_STATES)[number];

const count = (description: string) => Type.Integer({ minimum: 0, description });

export const WallboardGroup = Type.Object(
  {
    AcdGroupsID: Type.Integer(),
    Name: Type.String(),
    GroupType: Type.String({ description: 'Standalone, Configuration or Agent; a Configuration group has no queue of its own (its events queue in its agent group)' }),
    Waiting: count('Events in the group\'s queue (status 4)'),
    Offered: count('Events of the group offered to an agent, not yet accepted (status 10)'),
    InProgress: count('Events of the group in agents\' hands: new, seen or set aside (20, 30, 40)'),
    LongestWaitSeconds: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()], { description: 'Age of the oldest waiting event (since its creation); null when none waits' }),
    ServiceLevelSeconds: Type.Integer({ minimum: 0 }),
    ServiceLevelPercent: Type.Union([Type.Number({ minimum: 0, maximum: 100 }), Type.Null()], {
      description: 'Of the events created today (the client\'s time zone) in this group whose outcome is known, the share accepted within '
        + 'ServiceLevelSeconds of their creation, in percent (one decimal). Known: accepted, or not accepted within ServiceLevelSeconds. '
        + 'null when there is none yet',
    }),
    AgentsLoggedIn: count('Members logged in to the ACD and to this group'),
    AgentsByState: Type.Object(
      {
        Idle: count('Logged in, nothing offered or in hand'),
        Offered: count('Logged in, with an offer waiting for their answer (in any group)'),
        Busy: count('Logged in, holding new or seen events (in any group), no offer'),
        LoggedOut: count('Members not logged in to the ACD, or not to this group'),
      },
      { additionalProperties: false, description: 'The group\'s members by state' },
    ),
  },
  { $id: 'AcdGroupWallboard', additionalProperties: false },
);

// Row types of the tables in src/db/migrations, for Kysely's type checking.
import type { ColumnType, Generated } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Id = Generated<number>;

export interface SystemSettingsTable { key: string; value: string }

export interface ClientsTable {
  id: Id;
  name: string;
  time_zone: Generated<string>;
  token_hash: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AcdGroupsTable {
  id: Id;
  client_id: number;
  name: string;
  group_type: Generated<'Standalone' | 'Configuration' | 'Agent'>;
  primary_agent_group_id: number | null;
  foreign_system_id: string | null;
  distribution_algorithm_id: Generated<number>;
  service_level_seconds: Generated<number>;
  queue_music_id: number | null;
  supervisor_aggregation_skill_id: number | null;
  queue_offhook_announcement_id: number | null;
  b_position_announcement: Generated<boolean>;
  tarif_announcement_waves_id: number | null;
  b_call_redirection_after_number_announcement: Generated<boolean>;
  b_avoid_duplicate_events: Generated<boolean>;
  offer_timeout_seconds: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UsersTable {
  id: Id;
  client_id: number;
  uid: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  tel_status_id: Generated<number>;
  resellers_id: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  role: Generated<'agent' | 'supervisor'>;
}

export interface AcdGroupMembersTable {
  group_id: number;
  user_id: number;
  skills: ColumnType<Record<string, number>, string | undefined, string>;
  created_at: Timestamp;
}

export interface AcdEventsTable {
  id: Id;
  client_id: number;
  type_id: number;
  status_id: number;
  group_id: number | null;
  configuration_group_id: number | null;
  agent_group_id: number | null;
  queue_group_id: number | null;
  user_id: number | null;
  sender: string;
  receiver: string | null;
  subject: string;
  body: string | null;
  crm_url: string | null;
  user_data: string | null;
  user_data2: string | null;
  user_data3: string | null;
  event_data: string;
  priority: number;
  appointment_at: Date | string | null;
  skills_id1: number | null; skills_value1: number | null;
  skills_id2: number | null; skills_value2: number | null;
  skills_id3: number | null; skills_value3: number | null;
  chat_connectors_id: number | null;
  acd_work_flow_connectors_id: number | null;
  acd_inboxes_id: number | null;
  work_flow_monitor_points_id: number | null;
  acd_replying_types_id: number | null;
  last_agent_time: Generated<number>;
  b_close_by_foreign_system: Generated<boolean>;
  duplicate_key: string | null;
  /** The agent holding the event: offered (10) or in hand (20–40). */
  agent_id: number | null;
  offered_at: Date | string | null;
  lease_until: Date | string | null;
  error_reason: string | null;
  received_at: Date | string | null;
  remind_at: Date | string | null;
  created_at: Timestamp;
  modified_at: Timestamp;
  last_modified_at: Timestamp;
}

export interface AcdEventCommentsTable {
  id: Id;
  event_id: number;
  author: string;
  text: string;
  created_at: Timestamp;
}

export interface AcdEventHistoryTable {
  id: Id;
  event_id: number;
  from_status_id: number | null;
  to_status_id: number;
  agent_id: number | null;
  actor: string;
  reason: string | null;
  created_at: Timestamp;
}

export interface DiallerCampaignsTable {
  id: Id;
  client_id: number;
  name: string;
  languages_id: Generated<number>;
  contact_preview_time: number | null;
  n_max_parallel_lines: number | null;
  b_close_contacts_on_incoming_calls_match_caller_id: Generated<boolean>;
  dt_to: Date | string | null;
  b_caller_id_active: Generated<boolean>;
  abort_on_no_tel_number_result_code_id: number | null;
  incoming_call_result_code_id: number | null;
  user_data: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** The dialler engine's settings (migration 012). */
  mode: Generated<'Manual' | 'Preview' | 'Progressive' | 'External'>;
  group_id: number | null;
  n_max_tries: Generated<number>;
  n_max_tries_per_number: Generated<number>;
  n_max_tries_per_day: Generated<number>;
  retry_delays: ColumnType<Record<string, number>, string | undefined, string>;
  time_zone: string | null;
  b_running: Generated<boolean>;
  weight: Generated<number>;
  appointment_fallback_minutes: number | null;
}

export interface DiallerRestrictedPeriodsTable {
  id: Id;
  campaign_id: number;
  date_from: string;
  date_to: string;
  name: string | null;
}

export interface DiallerResultCodesTable {
  id: Id;
  campaign_id: number;
  export_key: string;
  type_id: number;
  time_offset: number | null;
  b_agent_bound: boolean | null;
  b_allow_delete: Generated<boolean>;
}

export interface DiallerResultCodeTextsTable {
  result_code_id: number;
  languages_id: number;
  content: string;
}

export interface DiallerTimeWindowsTable {
  id: Id;
  campaign_id: number;
  weekday: number;
  time_from: string;
  time_to: string;
}

export interface DiallerContactsTable {
  id: Id;
  client_id: number;
  campaign_id: number;
  name: string;
  first_name: string | null;
  email: string | null;
  phone_number1: string | null; phone_number2: string | null; phone_number3: string | null;
  phone_number4: string | null; phone_number5: string | null; phone_number6: string | null;
  user_data: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Dialler state (migration 012; src/domain/dialler-contact.ts says what each means). */
  n_tries_phone_number1: Generated<number>; n_phone_number1_last_cause: number | null; b_phone_number1_invalid: Generated<boolean>;
  n_tries_phone_number2: Generated<number>; n_phone_number2_last_cause: number | null; b_phone_number2_invalid: Generated<boolean>;
  n_tries_phone_number3: Generated<number>; n_phone_number3_last_cause: number | null; b_phone_number3_invalid: Generated<boolean>;
  n_tries_phone_number4: Generated<number>; n_phone_number4_last_cause: number | null; b_phone_number4_invalid: Generated<boolean>;
  n_tries_phone_number5: Generated<number>; n_phone_number5_last_cause: number | null; b_phone_number5_invalid: Generated<boolean>;
  n_tries_phone_number6: Generated<number>; n_phone_number6_last_cause: number | null; b_phone_number6_invalid: Generated<boolean>;
  time_zone: string;
  time_zone_source: Generated<'Contact' | 'Country' | 'Campaign'>;
  priority: Generated<number>;
  state: Generated<'Waiting' | 'InProgress' | 'Done' | 'Aborted'>;
  due_rank: Generated<number>;
  dt_next_try: Generated<Date | string>;
  n_tries: Generated<number>;
  n_tries_day: Generated<number>;
  tries_day: string | null;
  next_phone_index: number | null;
  reserved_user_id: number | null;
  follow_up_user_id: number | null;
  follow_up_at: Date | string | null;
  bound_user_id: number | null;
  bound_until: Date | string | null;
  last_user_id: number | null;
  result_code_id: number | null;
  result_export_key: string | null;
  closed_reason: string | null;
  hold_kind: 'Preview' | 'Progressive' | 'Manual' | 'External' | null;
  holder_user_id: number | null;
  lease_id: string | null;
  hold_until: Date | string | null;
  attempt_id: string | null;
  attempt_phone_index: number | null;
  attempt_started_at: Date | string | null;
}

export interface DiallerContactHistoryTable {
  id: ColumnType<string, never, never>;
  client_id: number;
  campaign_id: number;
  contact_id: number;
  attempt_id: string | null;
  change: string;
  state: string;
  user_id: number | null;
  phone_index: number | null;
  phone_number: string | null;
  cause: number | null;
  result_code_id: number | null;
  appointment_at: Date | string | null;
  comment: string | null;
  actor: string;
  reason: string | null;
  created_at: Timestamp;
}

export interface DiallerCampaignLoginsTable {
  campaign_id: number;
  user_id: number;
  created_at: Timestamp;
}

export interface DiallerDoNotCallTable {
  id: Id;
  client_id: number;
  number: string;
  b_prefix: Generated<boolean>;
  expires_at: Date | string | null;
  reason: string | null;
  created_at: Timestamp;
}

export interface AgentCredentialsTable {
  user_id: number;
  password_hash: string;
  updated_at: Timestamp;
}

export interface AgentSessionsTable {
  id: Id;
  token_hash: string;
  user_id: number;
  created_at: Timestamp;
  expires_at: Timestamp;
  /** Set on console (cookie) sessions only: the hash of their CSRF token. */
  csrf_hash: string | null;
}

export interface AgentStatesTable {
  user_id: number;
  b_logged_in: Generated<boolean>;
  capacity: ColumnType<Record<string, number>, string | undefined, string>;
  last_state_change_at: Date | string | null;
  last_offer_at: Date | string | null;
  /** Dialler contacts the agent holds (migration 012): no ACD offer while above 0. */
  dialler_held: Generated<number>;
}

/** When each agent last finished a piece of work (migration 006). */
export interface AgentFinishesTable {
  user_id: number;
  last_agent_time: Date | string;
}

export interface AgentGroupLoginsTable {
  group_id: number;
  user_id: number;
  created_at: Timestamp;
}

export type AgentStateChange = 'AcdLogin' | 'AcdLogout' | 'GroupLogin' | 'GroupLogout' | 'Capacity';

export interface AgentStateHistoryTable {
  id: Id;
  client_id: number;
  user_id: number;
  change: AgentStateChange;
  group_id: number | null;
  capacity: ColumnType<Record<string, number> | null, string | null, string | null>;
  actor: string;
  reason: string | null;
  created_at: Timestamp;
}

export interface AcdGroupDispatchTable {
  group_id: number;
  last_user_id: number | null;
}

export interface PushMessagesTable {
  id: ColumnType<string, never, never>;
  client_id: number;
  agent_id: number | null;
  topic: 'event' | 'agent' | 'contact';
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: Timestamp;
  xid: ColumnType<string, never, never>;
}

export interface Database {
  system_settings: SystemSettingsTable;
  clients: ClientsTable;
  acd_groups: AcdGroupsTable;
  users: UsersTable;
  acd_group_members: AcdGroupMembersTable;
  acd_events: AcdEventsTable;
  acd_event_comments: AcdEventCommentsTable;
  acd_event_history: AcdEventHistoryTable;
  dialler_campaigns: DiallerCampaignsTable;
  dialler_result_codes: DiallerResultCodesTable;
  dialler_result_code_texts: DiallerResultCodeTextsTable;
  dialler_time_windows: DiallerTimeWindowsTable;
  dialler_contacts: DiallerContactsTable;
  dialler_restricted_periods: DiallerRestrictedPeriodsTable;
  dialler_contact_history: DiallerContactHistoryTable;
  dialler_campaign_logins: DiallerCampaignLoginsTable;
  dialler_do_not_call: DiallerDoNotCallTable;
  agent_credentials: AgentCredentialsTable;
  agent_sessions: AgentSessionsTable;
  agent_states: AgentStatesTable;
  agent_finishes: AgentFinishesTable;
  agent_group_logins: AgentGroupLoginsTable;
  agent_state_history: AgentStateHistoryTable;
  acd_group_dispatch: AcdGroupDispatchTable;
  push_messages: PushMessagesTable;
}

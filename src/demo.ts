// Demo data for a first look: on an empty store, one client account (ClientsID 1) with groups,
// agents, events, the campaign "Campaign 1000" and a running preview campaign with an agent in
// it. Everything goes through the public API (app.inject), so the demo exercises exactly what
// integrators use.
import type { FastifyInstance } from 'fastify';
import { createClient } from './modules/clients/service.ts';

export interface DemoCredentials {
  clientId: number;
  token: string;
  /** Demo agents logged in to the ACD and their groups, with a session token each. */
  agents: { uid: string; password: string; token: string; work: string }[];
  /** A supervisor for the web console's supervisor view. */
  supervisor: { uid: string; password: string };
}

/** The demo agents' password: a demo store is for trying things out, never for production. */
export const DEMO_AGENT_PASSWORD = 'demo-agent-password';

/**
 * How long the demo's groups offer an event to an agent: long enough to read the README's agent
 * flow and type it out before the offer moves on (jtel's default is 30 s).
 */
export const DEMO_OFFER_TIMEOUT_SECONDS = 3600;

/** The demo campaign's preview time, for the same reason: the call starts by itself after it. */
export const DEMO_PREVIEW_SECONDS = 3600;

/** Seeds the demo when the store holds no client yet; returns its credentials, else undefined. */
export async function seedDemo(app: FastifyInstance): Promise<DemoCredentials | undefined> {
  const any = await app.store.db.selectFrom('clients').select('id').limit(1).executeTakeFirst();
  if (any) return undefined;
  // Seeding's few dozen request lines at info would scroll the start banner out of sight; its
  // warnings and errors still show. Request loggers are children made per request, so raising the
  // root level meanwhile silences exactly the seeding's requests.
  const level = app.log.level;
  if (level === 'info') app.log.level = 'warn';
  try {
    return await seed(app);
  } finally {
    app.log.level = level;
  }
}

async function seed(app: FastifyInstance): Promise<DemoCredentials> {
  const { ClientsID, Token } = await createClient(app.store.db, { Name: 'Demo', TimeZone: 'Europe/Berlin' });
  const base = `/rest/v1.0/${ClientsID}`;
  const call = async (method: 'POST' | 'PUT', path: string, payload: unknown) => {
    const res = await app.inject({ method, url: base + path, payload: payload as object, headers: { authorization: `Bearer ${Token}` } });
    if (res.statusCode !== 200) throw new Error(`demo seed: ${method} ${path} answered ${res.statusCode} ${res.body}`);
    return res.json().records?.[0] as { ID: number; UID?: string } | undefined;
  };

  const service = await call('POST', '/acd/groups/create', { Name: 'Service', GroupType: 'Standalone', bAvoidDuplicateEvents: true, DistributionAlgorithmID: 1, OfferTimeoutSeconds: DEMO_OFFER_TIMEOUT_SECONDS });
  const sales = await call('POST', '/acd/groups/create', { Name: 'Sales', GroupType: 'Standalone', DistributionAlgorithmID: 3, OfferTimeoutSeconds: DEMO_OFFER_TIMEOUT_SECONDS });
  const agents = await call('POST', '/acd/groups/create', { Name: 'Support agents', GroupType: 'Agent', OfferTimeoutSeconds: DEMO_OFFER_TIMEOUT_SECONDS });
  const hotline = await call('POST', '/acd/groups/create', { Name: 'Support hotline', GroupType: 'Configuration', PrimaryAgentGroupsID: agents!.ID, OfferTimeoutSeconds: DEMO_OFFER_TIMEOUT_SECONDS });

  const anna = await call('POST', '/users/create', { UID: 'anna.schmidt', FirstName: 'Anna', LastName: 'Schmidt', Email: 'anna.schmidt@example.com' });
  const ben = await call('POST', '/users/create', { UID: 'ben.meyer', FirstName: 'Ben', LastName: 'Meyer', Email: 'ben.meyer@example.com' });
  const clara = await call('POST', '/users/create', { UID: 'clara.supervisor', FirstName: 'Clara', LastName: 'Wagner', Email: 'clara.wagner@example.com', Role: 'supervisor' });
  for (const [group, user, skills] of [
    [service, anna, { '1': 80 }], [service, ben, { '1': 50 }], [sales, ben, { '2': 90 }], [agents, anna, {}], [agents, ben, {}],
  ] as const) {
    await call('PUT', `/acd/groups/group/${group!.ID}/members/${user!.ID}`, { Skills: skills });
  }

  await call('POST', '/acd/events/create', {
    AcdEventTypesID: 3, AcdGroupsID: service!.ID, UsersID: null, Sender: '49199123456789', Receiver: '4919900112233',
    Subject: 'Callback request from 49199123456789', Body: 'Please call back about the invoice.', CrmURL: 'https://crm.example.com/contacts/4711', UserData: '4711',
  });
  await call('POST', '/acd/events/create', {
    AcdEventTypesID: 1, AcdGroupsID: service!.ID, Sender: '+4930123456', Subject: 'Voicemail from 4930123456', Priority: 80,
  });
  await call('POST', '/acd/events/create', {
    AcdEventTypesID: 6, AcdGroupsID: sales!.ID, UsersID: ben!.ID, Sender: '', Subject: 'Ticket 123456: quote requested', UserData: '123456',
  });
  await call('POST', '/acd/events/create', {
    AcdEventTypesID: 5, AcdConfigurationGroupsID: hotline!.ID, AcdAgentGroupsID: agents!.ID, Sender: 'customer@example.com', Subject: 'Question about my contract',
  });
  await call('POST', '/acd/events/create', {
    AcdEventTypesID: 3, AcdGroupsID: sales!.ID, Sender: '4989987654', Subject: 'Callback at the agreed time', dtAppointmentTime: '18:00',
  });

  const campaign = await call('POST', '/dialler/campaigns/create', {
    Name: 'Campaign 1000', LanguagesID: 2, ContactPreviewTime: 5, bCloseContactsOnIncomingCallsMatchCallerID: true,
    ResultCodes: [
      { ExportKey: 'ABG', DiallerResultCodesTypesID: 1, bAllowDelete: true, Content: { '1': 'Completed', '2': 'Abgeschlossen' } },
      { ExportKey: 'NOTEL', DiallerResultCodesTypesID: 2, bAllowDelete: false, Content: { '1': 'No phone number', '2': 'Keine Rufnummer' } },
      { ExportKey: 'Aufleger', DiallerResultCodesTypesID: 2, bAllowDelete: true, Content: { '1': 'Hung up', '2': 'Aufleger' } },
      { ExportKey: 'WV', DiallerResultCodesTypesID: 3, TimeOffset: 60, bAllowDelete: true, Content: { '1': 'Call again later', '2': 'Wiedervorlage' } },
      { ExportKey: 'TERMIN', DiallerResultCodesTypesID: 4, bAgentBound: true, bAllowDelete: true, Content: { '1': 'Appointment', '2': 'Termin' } },
      { ExportKey: 'INCOMING', DiallerResultCodesTypesID: 1, bAllowDelete: false, Content: { '1': 'Customer called in', '2': 'Kunde hat angerufen' } },
    ],
    AbortOnNoTelNumberResultCode: 'NOTEL',
    IncomingCallResultCode: 'INCOMING',
  });
  for (const [name, phone, userData] of [['Müller GmbH', '4930111222', 'C-1001'], ['Schulz KG', '4940333444', 'C-1002'], ['Becker AG', '4989555666', 'C-1003']]) {
    await call('POST', '/dialler/contacts/import?overwriteDuplicates=true', { Name: name, DiallerCampaignsID: campaign!.ID, PhoneNumber1: phone, UserData: userData });
  }

  // A running preview campaign worked by the group "Outbound": contacts in several time zones
  // (from their number's country, or given), called only inside their own local windows.
  const outbound = await call('POST', '/acd/groups/create', { Name: 'Outbound', GroupType: 'Standalone', OfferTimeoutSeconds: DEMO_OFFER_TIMEOUT_SECONDS });
  const dora = await call('POST', '/users/create', { UID: 'dora.dialler', FirstName: 'Dora', LastName: 'Fischer', Email: 'dora.fischer@example.com' });
  await call('PUT', `/acd/groups/group/${outbound!.ID}/members/${dora!.ID}`, { Skills: {} });
  const preview = await call('POST', '/dialler/campaigns/create', {
    Name: 'Renewals preview', LanguagesID: 1, Mode: 'Preview', AcdGroupsID: outbound!.ID, bRunning: true,
    ContactPreviewTime: DEMO_PREVIEW_SECONDS, nMaxTriesPerDay: 3,
    TimeWindows: [1, 2, 3, 4, 5, 6, 7].map((Weekday) => ({ Weekday, From: '00:00', To: '24:00' })),
    ResultCodes: [
      { ExportKey: 'RENEWED', DiallerResultCodesTypesID: 1, Content: { '1': 'Renewed', '2': 'Verlängert' } },
      { ExportKey: 'DECLINED', DiallerResultCodesTypesID: 2, Content: { '1': 'Declined', '2': 'Abgelehnt' } },
      { ExportKey: 'NOTEL', DiallerResultCodesTypesID: 2, bAllowDelete: false, Content: { '1': 'No phone number', '2': 'Keine Rufnummer' } },
      { ExportKey: 'LATER', DiallerResultCodesTypesID: 3, TimeOffset: 120, bAgentBound: true, Content: { '1': 'Call again later', '2': 'Wiedervorlage' } },
      { ExportKey: 'APPOINTMENT', DiallerResultCodesTypesID: 4, bAgentBound: true, Content: { '1': 'Appointment', '2': 'Termin' } },
    ],
    AbortOnNoTelNumberResultCode: 'NOTEL',
  });
  for (const contact of [
    { Name: 'Hoffmann', FirstName: 'Lena', PhoneNumber1: '+4930555010', PhoneNumber2: '+4915155501', UserData: 'R-2001' },
    { Name: 'Smith', FirstName: 'Oliver', PhoneNumber1: '+442079460000', UserData: 'R-2002' },
    { Name: 'Dubois', FirstName: 'Camille', PhoneNumber1: '+33140000000', UserData: 'R-2003', Priority: 5 },
    { Name: 'Johnson', FirstName: 'Emma', PhoneNumber1: '+12125550100', TimeZone: 'America/New_York', UserData: 'R-2004' },
    { Name: 'Tanaka', FirstName: 'Yuki', PhoneNumber1: '+81355500000', UserData: 'R-2005' },
  ]) {
    await call('POST', '/dialler/contacts/import', { ...contact, DiallerCampaignsID: preview!.ID });
  }
  // Two agents ready for ACD work, so the events above are offered as soon as the server runs,
  // and Dora in the preview campaign: its first contact is hers as the server starts.
  const ready = [];
  for (const [user, groups, campaigns] of [[anna, [service, agents], []], [ben, [service, sales, agents], []], [dora, [], [preview]]] as const) {
    await call('PUT', `/users/user/${user!.ID}/password`, { Password: DEMO_AGENT_PASSWORD });
    const login = await app.inject({ method: 'POST', url: `${base}/agents/login`, payload: { UID: user!.UID, Password: DEMO_AGENT_PASSWORD } });
    if (login.statusCode !== 200) throw new Error(`demo seed: agent login answered ${login.statusCode} ${login.body}`);
    const session = login.json().records[0] as { Token: string };
    const asAgent = async (path: string) => {
      const res = await app.inject({ method: 'POST', url: base + path, headers: { authorization: `Bearer ${session.Token}` } });
      if (res.statusCode !== 200) throw new Error(`demo seed: POST ${path} answered ${res.statusCode} ${res.body}`);
    };
    if (groups.length > 0) await asAgent('/agents/me/acd/login');
    for (const group of groups) await asAgent(`/agents/me/groups/${group!.ID}/login`);
    for (const campaign of campaigns) await asAgent(`/agents/me/dialler/campaigns/${campaign!.ID}/login`);
    ready.push({ uid: user!.UID!, password: DEMO_AGENT_PASSWORD, token: session.Token, work: campaigns.length > 0 ? '/agents/me/dialler' : '/agents/me/events' });
  }
  await call('PUT', `/users/user/${clara!.ID}/password`, { Password: DEMO_AGENT_PASSWORD });
  return { clientId: ClientsID, token: Token, agents: ready, supervisor: { uid: clara!.UID!, password: DEMO_AGENT_PASSWORD } };
}

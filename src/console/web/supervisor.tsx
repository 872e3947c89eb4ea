// The supervisor view: wallboard per group, agents (state, work in hand, force logout), event
// search with detail, history and reassign, campaigns with progress and why-not counts. Live
// through the client's stream: every change reloads the section on view.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, must, records, type AcdEvent, type Schemas, type WallboardRow } from './api.ts';
import { useLive } from './live.ts';
import { Notice, Section, useAction, useConsole } from './ui.tsx';
import { EventSearch } from './event-search.tsx';
import { Campaigns } from './campaigns.tsx';

const STATE_WORDS = { Idle: 1, Offered: 1, Busy: 1, LoggedOut: 1 };
type StateWord = keyof typeof STATE_WORDS;

type Tab = 'wallboard' | 'agents' | 'events' | 'campaigns';
const TABS: Tab[] = ['wallboard', 'agents', 'events', 'campaigns'];

export function Supervisor({ setOnline }: { setOnline: (online: boolean) => void }) {
  const { t, session } = useConsole();
  const [tab, setTab] = useState<Tab>('wallboard');
  const [version, setVersion] = useState(0);
  const bump = useCallback(() => setVersion((v) => v + 1), []);
  const online = useLive(`/rest/v1.0/${session.ClientsID}/supervisor/stream`, bump);
  useEffect(() => setOnline(online), [online]);
  useEffect(() => {
    document.title = `${t(tab)} — ${t('appName')}`;
  }, [tab, t]);

  return (
    <div class="supervisor">
      <h1>{t('supervisor')}: {session.Name || session.UID}</h1>
      <nav aria-label={t('navigation')} class="tabs">
        {TABS.map((name) => (
          <button key={name} type="button" aria-current={tab === name ? 'page' : undefined} onClick={() => setTab(name)}>{t(name)}</button>
        ))}
      </nav>
      {tab === 'wallboard' && <Wallboard version={version} />}
      {tab === 'agents' && <Agents version={version} />}
      {tab === 'events' && <EventSearch version={version} />}
      {tab === 'campaigns' && <Campaigns version={version} />}
    </div>
  );
}

function Wallboard({ version }: { version: number }) {
  const { t, session } = useConsole();
  const [rows, setRows] = useState<WallboardRow[] | null>(null);
  const [error, act] = useAction();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    // Waits grow without any change: a slow refresh keeps "longest wait" honest.
    const timer = setInterval(() => setTick((n) => n + 1), 5000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    void act(async () => setRows(records(await api.GET('/rest/v1.0/{ClientsID}/acd/groups/wallboard', { params: { path: { ClientsID: session.ClientsID } } }))));
  }, [version, tick]);
  return (
    <Section title={t('wallboard')} id="wallboard">
      <Notice error={error} />
      {rows === null ? <p>{t('loading')}</p> : (
        <div class="board">
          {rows.map((g) => (
            <article key={g.AcdGroupsID} class="tile" aria-labelledby={`wb-${g.AcdGroupsID}`} data-group={g.AcdGroupsID}>
              <h3 id={`wb-${g.AcdGroupsID}`}>{g.Name}</h3>
              <dl>
                <div><dt>{t('waiting')}</dt><dd data-k="Waiting">{g.Waiting}</dd></div>
                <div><dt>{t('offered')}</dt><dd data-k="Offered">{g.Offered}</dd></div>
                <div><dt>{t('inProgress')}</dt><dd data-k="InProgress">{g.InProgress}</dd></div>
                <div><dt>{t('longestWait')}</dt><dd data-k="LongestWaitSeconds">{g.LongestWaitSeconds ?? '—'}</dd></div>
                <div><dt>{t('serviceLevel')}</dt><dd data-k="ServiceLevelPercent">{g.ServiceLevelPercent === null ? '—' : t('serviceLevelOf', Math.round(g.ServiceLevelPercent), g.ServiceLevelSeconds)}</dd></div>
                <div><dt>{t('agentsLoggedIn')}</dt><dd data-k="AgentsLoggedIn">{g.AgentsLoggedIn}</dd></div>
                <div><dt>{t('agentsByState')}</dt><dd data-k="AgentsByState">
                  <ul class="states">{Object.entries(g.AgentsByState).map(([k, v]) => <li key={k}>{k in STATE_WORDS ? t(k as StateWord) : k}: {v}</li>)}</ul>
                </dd></div>
              </dl>
            </article>
          ))}
        </div>
      )}
    </Section>
  );
}

type Agent = Schemas['Agent'];
/** The statuses of work an agent holds: offered, new, seen, remind. */
const HELD = [10, 20, 30, 40];

/**
 * Who holds which open event: the list names the holder (AgentUsersID) of every event, so one
 * list per held status, grouped by holder, is all it takes.
 */
async function workInHand(ClientsID: number): Promise<Map<number, AcdEvent[]>> {
  const open = (await Promise.all(HELD.map(async (status) => records(await api.GET('/rest/v1.0/{ClientsID}/acd/events', {
    params: { path: { ClientsID }, query: { AcdEventStatusID: status, limitPageSize: 1000, orderBy: 'dtCreated', ascending: true } },
  }))))).flat();
  const byAgent = new Map<number, AcdEvent[]>();
  for (const event of open) {
    if (event.AgentUsersID !== null) byAgent.set(event.AgentUsersID, [...(byAgent.get(event.AgentUsersID) ?? []), event]);
  }
  return byAgent;
}

function Agents({ version }: { version: number }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const [agents, setAgents] = useState<Agent[] | null>(null);
  const [work, setWork] = useState<Map<number, AcdEvent[]>>(new Map());
  const [error, act] = useAction();
  const load = () => act(async () => {
    const [list, held] = await Promise.all([
      api.GET('/rest/v1.0/{ClientsID}/agents', { params: { path: { ClientsID } } }),
      workInHand(ClientsID),
    ]);
    setAgents(records(list));
    setWork(held);
  });
  useEffect(() => {
    void load();
  }, [version]);
  return (
    <Section title={t('agents')} id="agents">
      <Notice error={error} />
      {agents === null ? <p>{t('loading')}</p> : (
        <table>
          <thead><tr><th scope="col">UID</th><th scope="col">{t('state')}</th><th scope="col">{t('groups')}</th><th scope="col">{t('workInHand')}</th><th scope="col"><span class="sr-only">{t('forceLogout')}</span></th></tr></thead>
          <tbody>
            {agents.map((a) => (
              <tr key={a.UsersID} data-agent={a.UID}>
                <th scope="row">{a.UID}</th>
                <td>{a.bLoggedIn ? t('loggedIn') : t('loggedOut')}</td>
                <td>{a.AcdGroups.filter((g) => g.bLoggedIn).map((g) => g.Name).join(', ') || '—'}</td>
                <td>{(work.get(a.UsersID) ?? []).map((e) => `#${e.ID} ${t.status(e.AcdEventStatusID)} ${e.Subject}`).join('; ') || '—'}</td>
                <td>
                  {a.bLoggedIn && (
                    <button type="button" onClick={() => act(async () => {
                      must(await api.POST('/rest/v1.0/{ClientsID}/agents/agent/{UsersID}/logout', { params: { path: { ClientsID, UsersID: a.UsersID } } }));
                      await load();
                    })}>{t('forceLogout')}<span class="sr-only"> {a.UID}</span></button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}

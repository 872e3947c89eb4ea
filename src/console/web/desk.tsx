// The agent desk: ACD and group logins, offers with their countdown, the events in hand and
// what an agent does with them; the dialler panel beside it. Live through the agent's stream.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, must, records, type Schemas, type WorkItem } from './api.ts';
import { useLive, useTick } from './live.ts';
import { secondsUntil } from './time.ts';
import { Notice, Section, useAction, useConsole } from './ui.tsx';
import { EventWork } from './event-work.tsx';
import { DiallerPanel } from './dialler.tsx';

type Agent = Schemas['Agent'];

export function Desk({ setOnline }: { setOnline: (online: boolean) => void }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const path = { ClientsID };
  const [agent, setAgent] = useState<Agent | null>(null);
  const [items, setItems] = useState<WorkItem[]>([]);
  const [selected, setSelected] = useState<number | null>(null);
  const [version, setVersion] = useState(0);
  const [error, act] = useAction();

  const load = useCallback(async () => {
    await act(async () => {
      const [me, mine] = await Promise.all([
        api.GET('/rest/v1.0/{ClientsID}/agents/me', { params: { path } }),
        api.GET('/rest/v1.0/{ClientsID}/agents/me/events', { params: { path, query: { orderBy: 'dtCreated' } } }),
      ]);
      setAgent(records(me)[0]);
      setItems(records(mine));
      setVersion((v) => v + 1);
    });
  }, [ClientsID]);

  useEffect(() => {
    void load();
  }, [load]);

  const online = useLive(`/rest/v1.0/${ClientsID}/agents/me/stream`, load);
  useEffect(() => setOnline(online), [online]);

  const offers = items.filter((i) => i.AcdEventStatusID === 10);
  const held = items.filter((i) => i.AcdEventStatusID !== 10);
  const current = held.find((i) => i.ID === selected) ?? held[0] ?? null;

  useEffect(() => {
    document.title = offers.length > 0 ? t('offerCue', offers.length) : `${t('desk')} — ${t('appName')}`;
  }, [offers.length, t]);

  // The agent record names the agent's groups; a group outside them (an event forwarded from
  // elsewhere) keeps its number.
  const groupNames = new Map((agent?.AcdGroups ?? []).map((g) => [g.AcdGroupsID, g.Name]));
  const groupName = (id: number | null) => (id === null ? '—' : groupNames.get(id) ?? `#${id}`);
  const post = async (run: Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
    if (await act(async () => must(await run))) await load();
  };

  return (
    <div class="desk">
      <h1>{t('desk')}: {session.Name || session.UID}</h1>
      <Notice error={error} />
      <div class="columns">
        <div class="column">
          <Section title={t('acd')} id="acd">
            {agent && (
              <>
                <p role="status">{agent.bLoggedIn ? t('acdLoggedIn') : t('acdLoggedOut')}</p>
                <button type="button" onClick={() => post(agent.bLoggedIn
                  ? api.POST('/rest/v1.0/{ClientsID}/agents/me/acd/logout', { params: { path } })
                  : api.POST('/rest/v1.0/{ClientsID}/agents/me/acd/login', { params: { path } }))}>
                  {agent.bLoggedIn ? `${t('acd')}: ${t('logOut')}` : `${t('acd')}: ${t('logIn')}`}
                </button>
                <h3>{t('groups')}</h3>
                <ul class="plain">
                  {agent.AcdGroups.map((g) => (
                    <li key={g.AcdGroupsID}>
                      <button type="button" aria-pressed={g.bLoggedIn} onClick={() => post(g.bLoggedIn
                        ? api.POST('/rest/v1.0/{ClientsID}/agents/me/groups/{AcdGroupsID}/logout', { params: { path: { ClientsID, AcdGroupsID: g.AcdGroupsID } } })
                        : api.POST('/rest/v1.0/{ClientsID}/agents/me/groups/{AcdGroupsID}/login', { params: { path: { ClientsID, AcdGroupsID: g.AcdGroupsID } } }))}>
                        {groupName(g.AcdGroupsID)}: {g.bLoggedIn ? t('loggedIn') : t('loggedOut')}
                      </button>
                    </li>
                  ))}
                </ul>
              </>
            )}
          </Section>
          <Offers offers={offers} groupName={groupName} post={post} />
          <Section title={t('inHand')} id="inhand">
            {held.length === 0 ? <p>{t('nothingInHand')}</p> : (
              <ul class="plain items">
                {held.map((i) => (
                  <li key={i.ID}>
                    <button type="button" aria-current={current?.ID === i.ID ? 'true' : undefined} onClick={() => setSelected(i.ID)}>
                      #{i.ID} {t.type(i.AcdEventTypesID)} · {t.status(i.AcdEventStatusID)} · {i.Subject}
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Section>
          <DiallerPanel version={version} />
        </div>
        <div class="column wide">
          {current && <EventWork key={current.ID} item={current} version={version} groups={agent?.AcdGroups.map((g) => g.AcdGroupsID) ?? []} groupName={groupName} reload={load} />}
        </div>
      </div>
    </div>
  );
}

function Offers({ offers, groupName, post }: {
  offers: WorkItem[];
  groupName: (id: number | null) => string;
  post: (run: Promise<{ data?: unknown; error?: unknown; response: Response }>) => Promise<void>;
}) {
  const { t, session } = useConsole();
  const now = useTick(offers.length > 0);
  const params = (AcdEventsID: number) => ({ params: { path: { ClientsID: session.ClientsID, AcdEventsID } }, body: {} });
  return (
    <Section title={t('offers')} id="offers">
      <p class="sr-only" aria-live="polite">{offers.length > 0 ? t('offerCue', offers.length) : ''}</p>
      {offers.length === 0 ? <p>{t('noOffers')}</p> : (
        <ul class="plain offers">
          {offers.map((o) => {
            const left = secondsUntil(o.dtOfferExpires, session.TimeZone, now);
            return (
              <li key={o.ID} class="offer" aria-label={`${t('event')} #${o.ID}`}>
                <p><strong>{o.Subject}</strong> · {t.type(o.AcdEventTypesID)} · {groupName(o.AcdGroupsID)} · {o.Sender}</p>
                {left !== null && <p class="countdown">{t('expiresIn', left)}</p>}
                <button type="button" class="primary" onClick={() => post(api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/accept', params(o.ID)))}>
                  {t('accept')}<span class="sr-only"> #{o.ID}</span>
                </button>{' '}
                <button type="button" onClick={() => post(api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/reject', params(o.ID)))}>
                  {t('reject')}<span class="sr-only"> #{o.ID}</span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
    </Section>
  );
}

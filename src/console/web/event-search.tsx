// Supervisor: events by the list API's filters, one event's detail and history, reassign.
import { useEffect, useState } from 'preact/hooks';
import { api, must, records, type AcdEvent, type Schemas } from './api.ts';
import { STATUS_IDS, TYPE_IDS } from './i18n.ts';
import { EventDataView, EventFields, EventRecordTrail, Notice, Section, useAction, useConsole } from './ui.tsx';

interface Filters {
  AcdEventStatusID: string;
  AcdEventTypesID: string;
  AcdGroupsID: string;
  Sender: string;
  Subject: string;
}
const NONE: Filters = { AcdEventStatusID: '', AcdEventTypesID: '', AcdGroupsID: '', Sender: '', Subject: '' };

export function EventSearch({ version }: { version: number }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const [filters, setFilters] = useState<Filters>(NONE);
  const [applied, setApplied] = useState<Filters>(NONE);
  const [found, setFound] = useState<AcdEvent[] | null>(null);
  const [groups, setGroups] = useState<Schemas['AcdGroup'][]>([]);
  const [agents, setAgents] = useState<Schemas['Agent'][]>([]);
  const [openId, setOpenId] = useState<number | null>(null);
  const [error, act] = useAction();

  useEffect(() => {
    void act(async () => {
      const [g, a] = await Promise.all([
        api.GET('/rest/v1.0/{ClientsID}/acd/groups', { params: { path: { ClientsID } } }),
        api.GET('/rest/v1.0/{ClientsID}/agents', { params: { path: { ClientsID } } }),
      ]);
      setGroups(records(g));
      setAgents(records(a));
    });
  }, [ClientsID]);

  useEffect(() => {
    const num = (v: string) => (v === '' ? undefined : Number(v));
    const text = (v: string) => (v.trim() === '' ? undefined : v.trim());
    void act(async () => setFound(records(await api.GET('/rest/v1.0/{ClientsID}/acd/events', {
      params: {
        path: { ClientsID },
        query: {
          AcdEventStatusID: num(applied.AcdEventStatusID), AcdEventTypesID: num(applied.AcdEventTypesID), AcdGroupsID: num(applied.AcdGroupsID),
          Sender: text(applied.Sender), Subject: text(applied.Subject), orderBy: 'dtCreated', ascending: false, limitPageSize: 100,
        },
      },
    }))));
  }, [applied, version]);

  const set = (key: keyof Filters) => (e: Event) => setFilters({ ...filters, [key]: (e.currentTarget as HTMLInputElement).value });
  const open = found?.find((e) => e.ID === openId) ?? null;

  return (
    <>
      <Section title={t('events')} id="search">
        <Notice error={error} />
        <form class="filters" role="search" onSubmit={(e) => {
          e.preventDefault();
          setApplied({ ...filters });
        }}>
          <label for="f-status">{t('status')}</label>
          <select id="f-status" value={filters.AcdEventStatusID} onChange={set('AcdEventStatusID')}>
            <option value="">{t('any')}</option>
            {STATUS_IDS.map((s) => <option key={s} value={String(s)}>{t.status(s)}</option>)}
          </select>
          <label for="f-type">{t('type')}</label>
          <select id="f-type" value={filters.AcdEventTypesID} onChange={set('AcdEventTypesID')}>
            <option value="">{t('any')}</option>
            {TYPE_IDS.map((s) => <option key={s} value={String(s)}>{t.type(s)}</option>)}
          </select>
          <label for="f-group">{t('group')}</label>
          <select id="f-group" value={filters.AcdGroupsID} onChange={set('AcdGroupsID')}>
            <option value="">{t('any')}</option>
            {groups.map((g) => <option key={g.ID} value={String(g.ID)}>{g.Name}</option>)}
          </select>
          <label for="f-sender">{t('sender')}</label>
          <input id="f-sender" value={filters.Sender} onInput={set('Sender')} />
          <label for="f-subject">{t('subject')}</label>
          <input id="f-subject" value={filters.Subject} onInput={set('Subject')} />
          <button type="submit" class="primary">{t('search')}</button>
        </form>
        {found && <p role="status">{t('results', found.length)}</p>}
        {found && found.length > 0 && (
          <table>
            <thead><tr><th scope="col">ID</th><th scope="col">{t('type')}</th><th scope="col">{t('status')}</th><th scope="col">{t('group')}</th><th scope="col">{t('subject')}</th><th scope="col">{t('created')}</th></tr></thead>
            <tbody>
              {found.map((e) => (
                <tr key={e.ID}>
                  <td><button type="button" onClick={() => setOpenId(e.ID)}>#{e.ID}<span class="sr-only"> {t('open')}</span></button></td>
                  <td>{t.type(e.AcdEventTypesID)}</td>
                  <td>{t.status(e.AcdEventStatusID)}</td>
                  <td>{groups.find((g) => g.ID === e.AcdGroupsID)?.Name ?? e.AcdGroupsID ?? '—'}</td>
                  <td>{e.Subject}</td>
                  <td>{e.dtCreated}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Section>
      {open && <EventDetail key={open.ID} event={open} version={version} groups={groups} agents={agents} close={() => setOpenId(null)} />}
    </>
  );
}

function EventDetail({ event, version, groups, agents, close }: {
  event: AcdEvent; version: number; groups: Schemas['AcdGroup'][]; agents: Schemas['Agent'][]; close: () => void;
}) {
  const { t, session } = useConsole();
  const [group, setGroup] = useState(String(event.AcdGroupsID ?? ''));
  const [agent, setAgent] = useState('');
  const [comment, setComment] = useState('');
  const [info, setInfo] = useState<string | null>(null);
  const [error, act] = useAction();
  return (
    <Section title={`${t('event')} #${event.ID}: ${event.Subject}`} id="detail">
      <button type="button" onClick={close}>{t('close')}</button>
      <Notice error={error} info={info} />
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        setInfo(null);
        void act(async () => {
          must(await api.POST('/rest/v1.0/{ClientsID}/acd/events/event/{AcdEventsID}/reassign', {
            params: { path: { ClientsID: session.ClientsID, AcdEventsID: event.ID } },
            body: { AcdGroupsID: group ? Number(group) : null, UsersID: agent ? Number(agent) : null, Comment: comment.trim() || null },
          }));
          setInfo(t('saved'));
        });
      }}>
        <fieldset>
          <legend>{t('reassign')}</legend>
          <label for="ra-group">{t('group')}</label>
          <select id="ra-group" value={group} onChange={(e) => setGroup(e.currentTarget.value)}>
            {groups.map((g) => <option key={g.ID} value={String(g.ID)}>{g.Name}</option>)}
          </select>
          <label for="ra-agent">{t('agent')}</label>
          <select id="ra-agent" value={agent} onChange={(e) => setAgent(e.currentTarget.value)}>
            <option value="">{t('anyAgent')}</option>
            {agents.map((a) => <option key={a.UsersID} value={String(a.UsersID)}>{a.UID}</option>)}
          </select>
          <label for="ra-comment">{t('comment')}</label>
          <input id="ra-comment" value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          <button type="submit" class="primary">{t('reassign')}</button>
        </fieldset>
      </form>
      <EventDataView xml={event.EventData} />
      <details open>
        <summary>{t('fields')}</summary>
        <EventFields event={event} groupName={(id) => groups.find((g) => g.ID === id)?.Name ?? `#${id}`} />
      </details>
      <EventRecordTrail eventId={event.ID} version={version} />
    </Section>
  );
}

// Pieces both views use: the context (words, session), an event's fields, its EventData as text,
// its comments and history.
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useState } from 'preact/hooks';
import { api, messageOf, must, type AcdEvent, type ConsoleSession, type Schemas, type WorkItem } from './api.ts';
import type { Translator } from './i18n.ts';

export interface ConsoleContext {
  t: Translator;
  session: ConsoleSession;
}
export const Ctx = createContext<ConsoleContext>(null as unknown as ConsoleContext);
export const useConsole = () => useContext(Ctx);

/** A status line for results of actions, read out by screen readers. */
export function Notice({ error, info }: { error?: string | null; info?: string | null }) {
  return (
    <div class="notices">
      <p role="alert" class={error ? 'error' : 'hidden'}>{error ?? ''}</p>
      <p role="status" class={info ? 'info' : 'hidden'}>{info ?? ''}</p>
    </div>
  );
}

/** Runs an action, keeping its error for a Notice. */
export function useAction(): [string | null, (run: () => Promise<unknown>) => Promise<boolean>] {
  const [error, setError] = useState<string | null>(null);
  const act = async (run: () => Promise<unknown>) => {
    try {
      setError(null);
      await run();
      return true;
    } catch (e) {
      setError(messageOf(e));
      return false;
    }
  };
  return [error, act];
}

export function Section({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  const headingId = `${id ?? title.replace(/\W+/g, '-').toLowerCase()}-h`;
  return (
    <section aria-labelledby={headingId} class="card">
      <h2 id={headingId}>{title}</h2>
      {children}
    </section>
  );
}

const show = (value: unknown) => (value === null || value === undefined ? '—' : String(value));

/** Every field of the event, as text. */
export function EventFields({ event, groupName }: { event: AcdEvent | WorkItem; groupName?: (id: number) => string }) {
  const { t } = useConsole();
  return (
    <dl class="fields" aria-label={t('fields')}>
      {Object.entries(event).filter(([k]) => k !== 'EventData').map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>
            {show(value)}
            {key === 'AcdEventStatusID' && typeof value === 'number' ? ` (${t.status(value)})` : ''}
            {key === 'AcdEventTypesID' && typeof value === 'number' ? ` (${t.type(value)})` : ''}
            {key === 'AcdGroupsID' && typeof value === 'number' && groupName ? ` (${groupName(value)})` : ''}
          </dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * EventData is customer text in jtel's XML document. It is parsed as XML (a parser that runs
 * nothing) and only text nodes ever reach the page: never innerHTML, so markup in it stays text.
 */
export function EventDataView({ xml }: { xml: string }) {
  const { t } = useConsole();
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const parsed = doc.getElementsByTagName('parsererror').length === 0;
  const body = parsed ? Array.from(doc.getElementsByTagName('body')).map((b) => b.textContent ?? '').join('\n') : '';
  const links = parsed
    ? Array.from(doc.getElementsByTagName('url')).map((u) => ({
      path: u.getElementsByTagName('urlPath')[0]?.textContent ?? '',
      name: u.getElementsByTagName('displayName')[0]?.textContent ?? '',
    })).filter((l) => l.path !== '' || l.name !== '')
    : [];
  return (
    <div class="eventdata">
      <h3>{t('eventData')}</h3>
      {parsed && (
        <>
          <h4>{t('body')}</h4>
          <pre class="body">{body}</pre>
          {links.length > 0 && (
            <>
              <h4>{t('links')}</h4>
              <ul>
                {links.map((l, i) => (
                  <li key={i}>
                    {/^https?:\/\//i.test(l.path) ? <a href={l.path} target="_blank" rel="noopener noreferrer">{l.name || l.path}</a> : `${l.name} ${l.path}`}
                  </li>
                ))}
              </ul>
            </>
          )}
        </>
      )}
      <details open={!parsed}>
        <summary>{t('rawXml')}</summary>
        <pre class="raw">{xml}</pre>
      </details>
    </div>
  );
}

type Comment = Schemas['AcdEventComment'];
type History = Schemas['AcdEventHistory'];

/**
 * Comments and history of an event, reloaded whenever `version` changes (the view bumps it on
 * every change its stream reports). An agent reads them through /agents/me (events they hold or
 * held), a supervisor through the client's event endpoints.
 */
export function EventRecordTrail({ eventId, version, mine = false }: { eventId: number; version: number; mine?: boolean }) {
  const { t, session } = useConsole();
  const [comments, setComments] = useState<Comment[] | null>(null);
  const [history, setHistory] = useState<History[] | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  useEffect(() => {
    let current = true;
    const params = { params: { path: { ClientsID: session.ClientsID, AcdEventsID: eventId } } };
    const failed = (e: unknown) => current && setFailed(messageOf(e));
    const [commentsOf, historyOf] = mine
      ? [api.GET('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/comments', params), api.GET('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/history', params)]
      : [api.GET('/rest/v1.0/{ClientsID}/acd/events/event/{AcdEventsID}/comments', params), api.GET('/rest/v1.0/{ClientsID}/acd/events/event/{AcdEventsID}/history', params)];
    commentsOf.then((r) => current && setComments(must(r).records), failed);
    historyOf.then((r) => current && setHistory(must(r).records), failed);
    // An answer to an older version must not overwrite a newer one.
    return () => {
      current = false;
    };
  }, [eventId, version, mine, session.ClientsID]);
  return (
    <div class="trail">
      <h3>{t('comments')}</h3>
      {comments === null ? <p>{failed ? t('notAvailable') : t('loading')}</p>
        : comments.length === 0 ? <p>{t('noComments')}</p>
          : (
            <ul class="comments">
              {comments.map((c) => <li key={c.ID}><span class="when">{c.dtCreated}</span> <strong>{c.Author}</strong>: {c.Text}</li>)}
            </ul>
          )}
      <h3>{t('history')}</h3>
      {history === null ? <p>{failed ? t('notAvailable') : t('loading')}</p> : (
        <table class="history">
          <thead><tr><th scope="col">{t('created')}</th><th scope="col">{t('status')}</th><th scope="col">{t('agent')}</th><th scope="col">{t('actor')}</th><th scope="col">{t('reason')}</th></tr></thead>
          <tbody>
            {history.map((h) => (
              <tr key={h.ID}>
                <td>{h.dtCreated}</td>
                <td>{h.FromAcdEventStatusID === null ? '' : `${t.status(h.FromAcdEventStatusID)} → `}{t.status(h.ToAcdEventStatusID)}</td>
                <td>{show(h.UsersID)}</td>
                <td>{h.Actor}</td>
                <td>{show(h.Reason)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

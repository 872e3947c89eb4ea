// The event in the agent's hands: every field, EventData as text, comments and history, and the
// actions on it (seen, remind, done, forward, comment).
import { useState } from 'preact/hooks';
import { api, must, type WorkItem } from './api.ts';
import { epochToLocalInput } from './time.ts';
import { EventDataView, EventFields, EventRecordTrail, Notice, Section, useAction, useConsole } from './ui.tsx';

interface Props {
  item: WorkItem;
  version: number;
  groups: number[];
  groupName: (id: number | null) => string;
  reload: () => Promise<void>;
}

export function EventWork({ item, version, groups, groupName, reload }: Props) {
  const { t, session } = useConsole();
  const [error, act] = useAction();
  const [info, setInfo] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const [remindAt, setRemindAt] = useState(() => epochToLocalInput(Date.now() + 3600_000, session.TimeZone));
  const [forwardGroup, setForwardGroup] = useState<string>(String(item.AcdGroupsID ?? groups[0] ?? ''));
  const [forwardAgent, setForwardAgent] = useState('');
  const path = { ClientsID: session.ClientsID, AcdEventsID: item.ID };
  const idBase = `ev${item.ID}`;
  const note = comment.trim() === '' ? null : comment.trim();

  const run = async (call: () => Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
    setInfo(null);
    if (await act(async () => must(await call()))) {
      setComment('');
      setInfo(t('saved'));
      await reload();
    }
  };

  return (
    <Section title={`${t('event')} #${item.ID}: ${item.Subject}`} id="event">
      <Notice error={error} info={info} />
      <div class="actions">
        <label for={`${idBase}-comment`}>{t('comment')}</label>
        <textarea id={`${idBase}-comment`} rows={2} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
        <div class="buttons">
          {item.AcdEventStatusID === 20 && (
            <button type="button" onClick={() => run(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/seen', { params: { path }, body: { Comment: note } }))}>{t('seen')}</button>
          )}
          <button type="button" disabled={note === null} onClick={() => run(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/comment', { params: { path }, body: { Comment: note ?? '' } }))}>{t('addComment')}</button>
          <button type="button" class="primary" onClick={() => run(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/done', { params: { path }, body: { Comment: note } }))}>{t('done')}</button>
        </div>
        <form class="inline" onSubmit={(e) => {
          e.preventDefault();
          void run(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/remind', { params: { path }, body: { dtRemind: remindAt, Comment: note } }));
        }}>
          <label for={`${idBase}-remind`}>{t('remindAt', session.TimeZone)}</label>
          <input id={`${idBase}-remind`} type="datetime-local" required value={remindAt} onInput={(e) => setRemindAt(e.currentTarget.value)} />
          <button type="submit">{t('remind')}</button>
        </form>
        <form class="inline" onSubmit={(e) => {
          e.preventDefault();
          const agentId = Number(forwardAgent);
          void run(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/events/{AcdEventsID}/forward', {
            params: { path },
            body: { AcdGroupsID: forwardGroup ? Number(forwardGroup) : null, UsersID: forwardAgent && agentId > 0 ? agentId : null, Comment: note },
          }));
        }}>
          <fieldset>
            <legend>{t('forwardTo')}</legend>
            <label for={`${idBase}-fg`}>{t('group')}</label>
            <select id={`${idBase}-fg`} value={forwardGroup} onChange={(e) => setForwardGroup(e.currentTarget.value)}>
              {[...new Set([...(item.AcdGroupsID === null ? [] : [item.AcdGroupsID]), ...groups])].map((g) => <option key={g} value={String(g)}>{groupName(g)}</option>)}
            </select>
            <label for={`${idBase}-fa`}>{t('agentId')}</label>
            <input id={`${idBase}-fa`} type="number" min={1} inputMode="numeric" value={forwardAgent} placeholder={t('anyAgent')} onInput={(e) => setForwardAgent(e.currentTarget.value)} />
            <button type="submit">{t('forward')}</button>
          </fieldset>
        </form>
      </div>
      <EventDataView xml={item.EventData} />
      <details open>
        <summary>{t('fields')}</summary>
        <EventFields event={item} groupName={groupName} />
      </details>
      <EventRecordTrail eventId={item.ID} version={version} mine />
    </Section>
  );
}

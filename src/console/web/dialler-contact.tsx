// A contact in the agent's hands: who it is, its numbers, its history in the dialler, the
// preview's countdown; call or skip, then the result: one of the campaign's result codes (texts
// in the UI language, as getMyDialler answered them) or, when nobody was reached, a system cause.
import { useState } from 'preact/hooks';
import { api, must, type Schemas } from './api.ts';
import type { MyDialler } from './dialler.tsx';
import { useTick } from './live.ts';
import { secondsUntil } from './time.ts';
import { Notice, useAction, useConsole } from './ui.tsx';

type Held = MyDialler['Contacts'][number];
type Contact = Schemas['DiallerContact'];

const PHONES = [1, 2, 3, 4, 5, 6] as const;
/** What the line did when there was no conversation (Connected needs a result code). */
const CAUSES = ['Busy', 'NoAnswer', 'AnsweringMachine', 'InvalidNumber', 'Other'] as const;
type Cause = typeof CAUSES[number];

const phoneOf = (c: Contact, i: typeof PHONES[number]) => c[`PhoneNumber${i}`];
const invalid = (c: Contact, i: typeof PHONES[number]) => c[`bPhoneNumber${i}Invalid`];

export function HeldContact({ held, campaignName, reload }: { held: Held; campaignName: string; reload: () => Promise<void> }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const now = useTick(held.dtPreviewEnds !== null && !held.bStarted);
  // `code:<ResultCodesID>` or `cause:<SystemCause>`.
  const [choice, setChoice] = useState('');
  const [appointment, setAppointment] = useState('');
  const [comment, setComment] = useState('');
  const [error, act] = useAction();
  const path = { ClientsID, DiallerContactsID: held.DiallerContactsID };
  const left = held.bStarted ? null : secondsUntil(held.dtPreviewEnds, session.TimeZone, now);
  const idBase = `dc${held.DiallerContactsID}`;
  const contact = held.Contact;
  const name = [contact.FirstName, contact.Name].filter(Boolean).join(' ') || `${t('contact')} #${held.DiallerContactsID}`;
  const codeName = (id: number | null) => held.ResultCodes.find((c) => c.ID === id)?.Content ?? (id === null ? '' : `#${id}`);
  const chosenCode = choice.startsWith('code:') ? held.ResultCodes.find((c) => `code:${c.ID}` === choice) : undefined;

  const done = async (run: () => Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
    if (await act(async () => must(await run()))) await reload();
  };

  return (
    <div class="held" aria-label={`${t('contact')} #${held.DiallerContactsID}`} role="group">
      <h4 class="contact-name">{name}</h4>
      <p><strong>{campaignName}</strong> · {held.HoldKind}{contact.UserData ? ` · ${contact.UserData}` : ''}{contact.TimeZone ? ` · ${contact.TimeZone}` : ''}</p>
      {left !== null && <p class="countdown">{t('previewEnds', left)}</p>}
      <ul class="plain numbers" aria-label={t('numbers')}>
        {PHONES.filter((i) => phoneOf(contact, i)).map((i) => (
          <li key={i} aria-current={held.PhoneIndex === i ? 'true' : undefined}>
            {t('number')} {i}: {phoneOf(contact, i)}
            {held.PhoneIndex === i ? ` (${held.bStarted ? t('dialling') : t('proposed')})` : ''}{invalid(contact, i) ? ` (${t('invalidNumber')})` : ''}
          </li>
        ))}
      </ul>
      <Notice error={error} />
      {!held.bStarted ? (
        <div class="buttons">
          <button type="button" class="primary" onClick={() => done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/start', { params: { path }, body: {} }))}>{t('call')}</button>
          <button type="button" onClick={() => done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/skip', { params: { path } }))}>{t('skip')}</button>
        </div>
      ) : (
        <form onSubmit={(e) => {
          e.preventDefault();
          const [kind, value] = choice.split(':');
          const base = { AttemptID: held.AttemptID, Comment: comment.trim() || null };
          const body = kind === 'cause' ? { ...base, SystemCause: value as Cause }
            : { ...base, ResultCodesID: Number(value), ...(chosenCode?.bAppointment ? { dtAppointment: appointment } : {}) };
          void done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/result', { params: { path }, body }));
        }}>
          <label for={`${idBase}-code`}>{t('resultCode')}</label>
          <select id={`${idBase}-code`} required value={choice} onChange={(e) => setChoice(e.currentTarget.value)}>
            <option value="">—</option>
            {held.ResultCodes.map((c) => <option key={c.ID} value={`code:${c.ID}`}>{c.Content} ({c.DiallerResultCodesTypesContent})</option>)}
            <optgroup label={t('noConversation')}>
              {CAUSES.map((c) => <option key={c} value={`cause:${c}`}>{t(`cause${c}`)}</option>)}
            </optgroup>
          </select>
          {chosenCode?.bAppointment && (
            <>
              <label for={`${idBase}-appt`}>{t('appointmentAt', session.TimeZone)}</label>
              <input id={`${idBase}-appt`} type="datetime-local" required value={appointment} onInput={(e) => setAppointment(e.currentTarget.value)} />
            </>
          )}
          <label for={`${idBase}-comment`}>{t('comment')}</label>
          <input id={`${idBase}-comment`} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          <button type="submit" class="primary">{t('saveResult')}</button>
        </form>
      )}
      <details open>
        <summary>{t('contactHistory')} ({held.History.length})</summary>
        <ol class="contact-history">
          {held.History.map((h) => (
            <li key={h.ID}>
              <span class="when">{h.dtCreated}</span> {h.Change} ({h.State})
              {[h.PhoneNumber, codeName(h.ResultCodesID), h.SystemCause, h.Comment].filter(Boolean).map((part) => ` · ${part}`).join('')}
            </li>
          ))}
        </ol>
      </details>
    </div>
  );
}

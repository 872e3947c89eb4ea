// The agent's dialler: campaign logins, the contact in hand (preview with its countdown), the
// call's start, skip, and the result with the campaign's result codes in the UI language.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, must, records, type Operations, type Schemas } from './api.ts';
import { languagesId } from './i18n.ts';
import { useTick } from './live.ts';
import { secondsUntil } from './time.ts';
import { Notice, Section, useAction, useConsole } from './ui.tsx';

type MyDialler = Operations['getMyDialler']['responses'][200]['content']['application/json']['records'][number];
type Held = MyDialler['Contacts'][number];
type Campaign = Schemas['DiallerCampaign'];

/** `version` changes whenever the desk's stream reports a change: the panel reloads then. */
export function DiallerPanel({ version }: { version: number }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const [mine, setMine] = useState<MyDialler | null>(null);
  const [campaigns, setCampaigns] = useState<Campaign[] | null>(null);
  const [campaignId, setCampaignId] = useState('');
  const [error, act] = useAction();

  const load = useCallback(async () => {
    await act(async () => setMine(records(await api.GET('/rest/v1.0/{ClientsID}/agents/me/dialler', { params: { path: { ClientsID } } }))[0]));
  }, [ClientsID]);
  useEffect(() => {
    void load();
  }, [load, version]);
  useEffect(() => {
    // Campaign names where the session may read them; numbers otherwise.
    api.GET('/rest/v1.0/{ClientsID}/dialler/campaigns', { params: { path: { ClientsID } } })
      .then((r) => setCampaigns(records(r))).catch(() => setCampaigns(null));
  }, [ClientsID]);

  const nameOf = (id: number) => campaigns?.find((c) => c.ID === id)?.Name ?? `#${id}`;
  const login = (id: number, out: boolean) => act(async () => {
    const path = { ClientsID, DiallerCampaignsID: id };
    setMine(records(await (out
      ? api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/campaigns/{DiallerCampaignsID}/logout', { params: { path } })
      : api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/campaigns/{DiallerCampaignsID}/login', { params: { path } })))[0]);
  });

  return (
    <Section title={t('dialler')} id="dialler">
      <Notice error={error} />
      <h3>{t('campaigns')}</h3>
      <ul class="plain">
        {(mine?.Campaigns ?? []).map((id) => (
          <li key={id}>{nameOf(id)} <button type="button" onClick={() => login(id, true)}>{t('logOut')}<span class="sr-only"> {nameOf(id)}</span></button></li>
        ))}
      </ul>
      <form class="inline" onSubmit={(e) => {
        e.preventDefault();
        if (Number(campaignId) > 0) void login(Number(campaignId), false);
      }}>
        <label for="campaign-login">{t('campaignId')}</label>
        {campaigns ? (
          <select id="campaign-login" value={campaignId} onChange={(e) => setCampaignId(e.currentTarget.value)}>
            <option value="">—</option>
            {campaigns.filter((c) => !mine?.Campaigns.includes(c.ID)).map((c) => <option key={c.ID} value={String(c.ID)}>{c.Name}</option>)}
          </select>
        ) : <input id="campaign-login" type="number" min={1} value={campaignId} onInput={(e) => setCampaignId(e.currentTarget.value)} />}
        <button type="submit">{t('logIn')}</button>
      </form>
      <h3>{t('contact')}</h3>
      {(mine?.Contacts ?? []).length === 0 ? <p>{t('noContacts')}</p>
        : mine!.Contacts.map((c) => <HeldContact key={`${c.DiallerContactsID}-${c.AttemptID}`} held={c} campaignName={nameOf(c.DiallerCampaignsID)} reload={load} />)}
    </Section>
  );
}

function HeldContact({ held, campaignName, reload }: { held: Held; campaignName: string; reload: () => Promise<void> }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const now = useTick(held.dtPreviewEnds !== null && !held.bStarted);
  const [codes, setCodes] = useState<Schemas['DiallerResultCode'][] | null>(null);
  const [code, setCode] = useState('');
  const [exportKey, setExportKey] = useState('');
  const [comment, setComment] = useState('');
  const [error, act] = useAction();
  const path = { ClientsID, DiallerContactsID: held.DiallerContactsID };
  const left = held.bStarted ? null : secondsUntil(held.dtPreviewEnds, session.TimeZone, now);
  const idBase = `dc${held.DiallerContactsID}`;

  useEffect(() => {
    api.GET('/rest/v1.0/{ClientsID}/dialler/campaigns/campaign/{DiallerCampaignsID}/resultCodes', {
      params: { path: { ClientsID, DiallerCampaignsID: held.DiallerCampaignsID }, query: { languagesID: languagesId(t.lang) } },
    }).then((r) => setCodes(records(r))).catch(() => setCodes(null));
  }, [held.DiallerCampaignsID, t.lang]);

  const done = async (run: () => Promise<{ data?: unknown; error?: unknown; response: Response }>) => {
    if (await act(async () => must(await run()))) await reload();
  };

  return (
    <div class="held" aria-label={`${t('contact')} #${held.DiallerContactsID}`} role="group">
      <p><strong>{campaignName}</strong> · {held.HoldKind} · {t('contact')} #{held.DiallerContactsID}</p>
      <p>{t('number')} {held.PhoneIndex}: {held.PhoneNumber}</p>
      {left !== null && <p class="countdown">{t('previewEnds', left)}</p>}
      <Notice error={error} />
      {!held.bStarted ? (
        <div class="buttons">
          <button type="button" class="primary" onClick={() => done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/start', { params: { path }, body: {} }))}>{t('call')}</button>
          <button type="button" onClick={() => done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/skip', { params: { path } }))}>{t('skip')}</button>
        </div>
      ) : (
        <form onSubmit={(e) => {
          e.preventDefault();
          const body = codes ? { AttemptID: held.AttemptID, ResultCodesID: Number(code), Comment: comment || null }
            : { AttemptID: held.AttemptID, ResultCodesExportKey: exportKey, Comment: comment || null };
          void done(() => api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/contacts/{DiallerContactsID}/result', { params: { path }, body }));
        }}>
          <label for={`${idBase}-code`}>{t('resultCode')}</label>
          {codes ? (
            <select id={`${idBase}-code`} required value={code} onChange={(e) => setCode(e.currentTarget.value)}>
              <option value="">—</option>
              {codes.map((c) => <option key={c.ID} value={String(c.ID)}>{c.Content} ({c.DiallerResultCodesTypesContent})</option>)}
            </select>
          ) : <input id={`${idBase}-code`} required value={exportKey} onInput={(e) => setExportKey(e.currentTarget.value)} />}
          <label for={`${idBase}-comment`}>{t('comment')}</label>
          <input id={`${idBase}-comment`} value={comment} onInput={(e) => setComment(e.currentTarget.value)} />
          <button type="submit" class="primary">{t('saveResult')}</button>
        </form>
      )}
    </div>
  );
}

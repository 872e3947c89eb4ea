// The agent's dialler: campaign logins (chosen from the campaigns the agent may join), and the
// contacts in hand (dialler-contact.tsx). One read, getMyDialler, carries all of it, result code
// texts in the UI language included.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { api, records, type Operations } from './api.ts';
import { languagesId } from './i18n.ts';
import { Notice, Section, useAction, useConsole } from './ui.tsx';
import { HeldContact } from './dialler-contact.tsx';

export type MyDialler = Operations['getMyDialler']['responses'][200]['content']['application/json']['records'][number];

/** `version` changes whenever the desk's stream reports a change: the panel reloads then. */
export function DiallerPanel({ version }: { version: number }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const LanguagesID = languagesId(t.lang);
  const [mine, setMine] = useState<MyDialler | null>(null);
  const [campaignId, setCampaignId] = useState('');
  const [error, act] = useAction();

  const load = useCallback(async () => {
    await act(async () => setMine(records(await api.GET('/rest/v1.0/{ClientsID}/agents/me/dialler', { params: { path: { ClientsID }, query: { LanguagesID } } }))[0]));
  }, [ClientsID, LanguagesID]);
  useEffect(() => {
    void load();
  }, [load, version]);

  const available = mine?.AvailableCampaigns ?? [];
  const nameOf = (id: number) => available.find((c) => c.DiallerCampaignsID === id)?.Name ?? `#${id}`;
  const login = (id: number, out: boolean) => act(async () => {
    const params = { params: { path: { ClientsID, DiallerCampaignsID: id }, query: { LanguagesID } } };
    setMine(records(await (out
      ? api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/campaigns/{DiallerCampaignsID}/logout', params)
      : api.POST('/rest/v1.0/{ClientsID}/agents/me/dialler/campaigns/{DiallerCampaignsID}/login', params)))[0]);
    if (!out) setCampaignId('');
  });
  const joinable = available.filter((c) => !c.bLoggedIn);

  return (
    <Section title={t('dialler')} id="dialler">
      <Notice error={error} />
      <h3>{t('campaigns')}</h3>
      {(mine?.Campaigns ?? []).length === 0 ? <p>{t('noCampaignLogins')}</p> : (
        <ul class="plain">
          {mine!.Campaigns.map((id) => (
            <li key={id}>{nameOf(id)} <button type="button" onClick={() => login(id, true)}>{t('logOut')}<span class="sr-only"> {nameOf(id)}</span></button></li>
          ))}
        </ul>
      )}
      {joinable.length > 0 && (
        <form class="inline" onSubmit={(e) => {
          e.preventDefault();
          if (Number(campaignId) > 0) void login(Number(campaignId), false);
        }}>
          <label for="campaign-login">{t('campaignId')}</label>
          <select id="campaign-login" required value={campaignId} onChange={(e) => setCampaignId(e.currentTarget.value)}>
            <option value="">—</option>
            {joinable.map((c) => (
              <option key={c.DiallerCampaignsID} value={String(c.DiallerCampaignsID)}>
                {c.Name} ({c.Mode}{c.bRunning ? '' : `, ${t('notRunning')}`})
              </option>
            ))}
          </select>
          <button type="submit">{t('logIn')}</button>
        </form>
      )}
      <h3>{t('contact')}</h3>
      {(mine?.Contacts ?? []).length === 0 ? <p>{t('noContacts')}</p>
        : mine!.Contacts.map((c) => <HeldContact key={`${c.DiallerContactsID}-${c.AttemptID}`} held={c} campaignName={nameOf(c.DiallerCampaignsID)} reload={load} />)}
    </Section>
  );
}

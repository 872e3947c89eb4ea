// Supervisor: every campaign with its progress (contacts by state) and why-not-dialled counts.
import { useEffect, useState } from 'preact/hooks';
import { api, records, type Operations, type Schemas } from './api.ts';
import { Notice, Section, useAction, useConsole } from './ui.tsx';

type WhyNot = Operations['whyNotDiallerCampaign']['responses'][200]['content']['application/json']['records'][number];

const counts = (c: Record<string, number>) => Object.entries(c).filter(([, n]) => n > 0);

export function Campaigns({ version }: { version: number }) {
  const { t, session } = useConsole();
  const ClientsID = session.ClientsID;
  const [rows, setRows] = useState<{ campaign: Schemas['DiallerCampaign']; whyNot: WhyNot }[] | null>(null);
  const [error, act] = useAction();
  useEffect(() => {
    void act(async () => {
      const campaigns = records(await api.GET('/rest/v1.0/{ClientsID}/dialler/campaigns', { params: { path: { ClientsID } } }));
      setRows(await Promise.all(campaigns.map(async (campaign) => ({
        campaign,
        whyNot: records(await api.GET('/rest/v1.0/{ClientsID}/dialler/campaigns/campaign/{DiallerCampaignsID}/whyNot', {
          params: { path: { ClientsID, DiallerCampaignsID: campaign.ID } },
        }))[0],
      }))));
    });
  }, [version]);
  return (
    <Section title={t('campaigns')} id="campaigns">
      <Notice error={error} />
      {rows === null ? <p>{t('loading')}</p> : rows.map(({ campaign, whyNot }) => {
        const finished = whyNot.ByState.Done + whyNot.ByState.Aborted;
        return (
          <article key={campaign.ID} class="tile" aria-labelledby={`cp-${campaign.ID}`}>
            <h3 id={`cp-${campaign.ID}`}>{campaign.Name}</h3>
            <p>{t('total')}: {whyNot.Total}</p>
            <label for={`cp-${campaign.ID}-p`}>{t('progress')}</label>{' '}
            <progress id={`cp-${campaign.ID}-p`} max={Math.max(1, whyNot.Total)} value={finished}>{finished}/{whyNot.Total}</progress>
            <h4>{t('state')}</h4>
            <ul class="counts">{counts(whyNot.ByState).map(([k, n]) => <li key={k}>{k}: {n}</li>)}</ul>
            <h4>{t('whyNot')}</h4>
            <ul class="counts">{counts(whyNot.ByReason).map(([k, n]) => <li key={k}>{k}: {n}</li>)}</ul>
          </article>
        );
      })}
    </Section>
  );
}

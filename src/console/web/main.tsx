/// <reference lib="dom" />
// The console's entry: sign-in, then the agent desk or the supervisor view by the session's role.
import { render } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import './styles.css';
import { ApiError, currentSession, messageOf, SESSION_LOST, signIn, signOut, type ConsoleSession } from './api.ts';
import { defaultLang, translator, type Lang, type Translator } from './i18n.ts';
import { Ctx } from './ui.tsx';
import { Desk } from './desk.tsx';
import { Supervisor } from './supervisor.tsx';

/** The client number: `?client=` first, else the one remembered from the last sign-in. */
function initialClient(): string {
  const fromUrl = new URLSearchParams(location.search).get('client');
  if (fromUrl && /^\d{1,9}$/.test(fromUrl)) return fromUrl;
  return localStorage.getItem('sb.client') ?? '';
}

function App() {
  const [lang, setLang] = useState<Lang>(defaultLang);
  const t = useMemo(() => translator(lang), [lang]);
  const [session, setSession] = useState<ConsoleSession | null | undefined>(undefined);
  const [online, setOnline] = useState(true);

  useEffect(() => {
    document.documentElement.lang = lang;
    localStorage.setItem('sb.lang', lang);
  }, [lang]);

  useEffect(() => {
    const client = Number(initialClient());
    if (!(client > 0)) return setSession(null);
    currentSession(client).then(setSession, () => setSession(null));
  }, []);

  useEffect(() => {
    const onLost = () => setSession(null);
    window.addEventListener(SESSION_LOST, onLost);
    return () => window.removeEventListener(SESSION_LOST, onLost);
  }, []);

  useEffect(() => {
    if (session === null) document.title = `${t('signIn')} — ${t('appName')}`;
  }, [session, t]);

  return (
    <>
      <header class="top">
        <span class="brand">{t('appName')}</span>
        <div class="spacer" />
        <label for="lang">{t('language')}</label>
        <select id="lang" value={lang} onChange={(e) => setLang(e.currentTarget.value as Lang)}>
          <option value="en">English</option>
          <option value="de">Deutsch</option>
        </select>
        {session && (
          <button type="button" onClick={async () => {
            await signOut(session.ClientsID);
            setSession(null);
          }}>{t('signOut')}</button>
        )}
      </header>
      {session && !online && <div class="offline" role="alert">{t('offline')}</div>}
      <main id="main">
        {session === undefined ? <p>{t('loading')}</p>
          : session === null ? <SignIn t={t} onSignedIn={setSession} />
            : (
              <Ctx.Provider value={{ t, session }}>
                {session.Role === 'supervisor' ? <Supervisor setOnline={setOnline} /> : <Desk setOnline={setOnline} />}
              </Ctx.Provider>
            )}
      </main>
    </>
  );
}

function SignIn({ t, onSignedIn }: { t: Translator; onSignedIn: (session: ConsoleSession) => void }) {
  const [client, setClient] = useState(initialClient);
  const [uid, setUid] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await signIn(Number(client), uid, password);
      localStorage.setItem('sb.client', client);
      onSignedIn(session);
    } catch (err) {
      setError(err instanceof ApiError && (err.status === 401 || err.status === 404 || err.status === 400) ? t('signInFailed') : messageOf(err));
      setPassword('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card signin" onSubmit={submit} aria-labelledby="signin-h" aria-describedby={error ? 'signin-error' : undefined}>
      <h1 id="signin-h">{t('signInTitle')}</h1>
      <p id="signin-error" role="alert" class={error ? 'error' : 'hidden'}>{error ?? ''}</p>
      <label for="client">{t('client')}</label>
      <input id="client" name="client" inputMode="numeric" pattern="[0-9]+" required autoComplete="organization" value={client}
        aria-invalid={error ? 'true' : undefined} onInput={(e) => setClient(e.currentTarget.value)} />
      <label for="uid">{t('uid')}</label>
      <input id="uid" name="username" required autoComplete="username" value={uid}
        aria-invalid={error ? 'true' : undefined} onInput={(e) => setUid(e.currentTarget.value)} />
      <label for="password">{t('password')}</label>
      <input id="password" name="password" type="password" required autoComplete="current-password" value={password}
        aria-invalid={error ? 'true' : undefined} onInput={(e) => setPassword(e.currentTarget.value)} />
      <button type="submit" class="primary" disabled={busy}>{busy ? t('signingIn') : t('signIn')}</button>
    </form>
  );
}

render(<App />, document.getElementById('app')!);

// Live updates: one EventSource on a stream of the API (the session cookie authenticates it).
// Every message only says "something changed": the page reloads what it shows, so a message
// missed while offline costs nothing once the stream is open again. The browser reconnects an
// interrupted stream by itself; a stream the server closed, or the network going away, is
// reopened here with a growing delay, and the page shows that it is offline meanwhile.
import { useEffect, useRef, useState } from 'preact/hooks';

const TOPICS = ['event', 'agent', 'contact'];

export function useLive(url: string, onChange: () => void): boolean {
  const [online, setOnline] = useState(true);
  const latest = useRef(onChange);
  latest.current = onChange;

  useEffect(() => {
    let source: EventSource | undefined;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let debounce: ReturnType<typeof setTimeout> | undefined;
    let delay = 500;
    let lastId = '';
    let stopped = false;

    const changed = () => {
      clearTimeout(debounce);
      debounce = setTimeout(() => latest.current(), 30);
    };
    const reopenLater = () => {
      clearTimeout(retry);
      retry = setTimeout(open, delay);
      delay = Math.min(delay * 2, 10_000);
    };
    function open() {
      if (stopped) return;
      source?.close();
      if (!navigator.onLine) return setOnline(false);
      const s = new EventSource(lastId ? `${url}?lastEventId=${encodeURIComponent(lastId)}` : url, { withCredentials: true });
      source = s;
      s.onopen = () => {
        delay = 500;
        setOnline(true);
        changed();
      };
      const onMessage = (message: MessageEvent) => {
        if (message.lastEventId) lastId = message.lastEventId;
        changed();
      };
      for (const topic of TOPICS) s.addEventListener(topic, onMessage);
      s.onerror = () => {
        setOnline(false);
        if (s.readyState === EventSource.CLOSED) reopenLater();
      };
    }
    const wentOffline = () => {
      setOnline(false);
      source?.close();
    };
    const cameBack = () => {
      delay = 500;
      open();
    };
    window.addEventListener('offline', wentOffline);
    window.addEventListener('online', cameBack);
    open();
    return () => {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(debounce);
      source?.close();
      window.removeEventListener('offline', wentOffline);
      window.removeEventListener('online', cameBack);
    };
  }, [url]);

  return online;
}

/** Re-renders every second (countdowns). */
export function useTick(active = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

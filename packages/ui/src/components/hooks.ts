// Shared hooks: a one-second clock for countdowns and a poller that never overlaps its own requests.
import { useEffect, useRef, useState } from 'preact/hooks';

export function useNow(everyMs = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(id);
  }, [everyMs]);
  return now;
}

/** Runs `load` now and every `everyMs`; a request still in flight when the next is due is not doubled. */
export function usePoll(load: (signal: AbortSignal) => Promise<void>, everyMs: number, deps: unknown[]) {
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctrl = new AbortController();
    let busy = false;
    const run = async () => {
      if (busy) return;
      busy = true;
      try {
        await loadRef.current(ctrl.signal);
      } finally {
        busy = false;
      }
    };
    void run();
    const id = setInterval(() => void run(), everyMs);
    return () => {
      clearInterval(id);
      ctrl.abort();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
}

/** Moves focus to the page's heading when a page is shown, so keyboard and screen-reader users land on it. */
export function useFocusHeading(key: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [key]);
  return ref;
}

// Polls a loader every `intervalMs` while the view is shown; keeps the last
// value and the last error (a failed poll keeps the previous value on screen).

import { useEffect, useState } from 'preact/hooks';

export interface Polled<T> {
  value: T | null;
  error: string | null;
}

export function usePoll<T>(load: () => Promise<T>, intervalMs: number, deps: unknown[] = []): Polled<T> & { refresh: () => void } {
  const [state, setState] = useState<Polled<T>>({ value: null, error: null });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async (): Promise<void> => {
      try {
        const value = await load();
        if (live) setState({ value, error: null });
      } catch (error) {
        if (live) setState((previous) => ({ value: previous.value, error: (error as Error).message }));
      }
      if (live) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, refresh: () => setTick((n) => n + 1) };
}

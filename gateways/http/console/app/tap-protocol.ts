// What the subject tap's worker (tap-worker.ts) and its page (tap.tsx) say to
// each other: the page starts it on subjects; it reports a few times a second.

/** The newest messages a tap shows; every other one is counted as skipped. */
export const TAP_WINDOW = 200;

export interface TapStart {
  subjects: string[];
}

export interface TapMessage {
  n: number;
  at: string;
  subject: string;
  payload: string;
}

export interface TapReport {
  /** Messages received since the tap started. */
  total: number;
  /** Up to TAP_WINDOW messages received since the last report, newest first. */
  fresh: TapMessage[];
  /** 'live', or why the tap is not (refused with the gateway's reason, ended). */
  state: string;
}

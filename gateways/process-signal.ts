// `switchboard --signal <command>[=<pid>]`: signal a running Switchboard and
// exit, as `nats-server --signal` does (NS server/signal.go CommandToSignal,
// opts.go processSignal): the same commands map to the same signals, and the
// pid may be given as the path of a file holding it. nats-server finds its
// own process with pgrep when no pid is given; Switchboard runs under node, so
// the pid is required.

/** nats-server's commands and the signals they send. */
export const SIGNAL_COMMANDS = {
  stop: 'SIGKILL',
  quit: 'SIGINT',
  term: 'SIGTERM',
  reopen: 'SIGUSR1',
  reload: 'SIGHUP',
  ldm: 'SIGUSR2',
} as const satisfies Record<string, NodeJS.Signals>;

export type SignalCommand = keyof typeof SIGNAL_COMMANDS;

/** A --signal that could not be sent: unknown command, no or bad pid, no such process. */
export class SignalError extends Error {
  override readonly name = 'SignalError';
  constructor(readonly spec: string, reason: string, options: { cause?: unknown } = {}) {
    super(`--signal ${spec}: ${reason}`, options);
  }
}

/** A pid, or the path of a pid file (nats-server's maybeReadPidFile). */
function resolvePid(spec: string, target: string, readFile: (path: string) => string | undefined): number {
  const text = (readFile(target) ?? target).trim();
  if (!/^\d+$/.test(text)) throw new SignalError(spec, `invalid pid: ${JSON.stringify(text)}`);
  return Number(text);
}

/** Parse `<command>[=<pid|pid file>]` and send the signal; returns what was sent. */
export function processSignal(spec: string, readFile: (path: string) => string | undefined, kill: (pid: number, signal: NodeJS.Signals) => void = process.kill): { pid: number; signal: NodeJS.Signals } {
  const parts = spec.split('=');
  if (parts.length > 2) throw new SignalError(spec, `invalid signal parameters: ${parts.slice(2).join('=')}`);
  const command = parts[0];
  if (!Object.hasOwn(SIGNAL_COMMANDS, command)) throw new SignalError(spec, `unknown signal "${command}" (expected ${Object.keys(SIGNAL_COMMANDS).join(', ')})`);
  if (parts.length < 2 || parts[1] === '') throw new SignalError(spec, `give the server's pid or pid file: --signal ${command}=<pid>`);
  const pid = resolvePid(spec, parts[1], readFile);
  const signal = SIGNAL_COMMANDS[command as SignalCommand];
  try {
    kill(pid, signal);
  } catch (cause) {
    throw new SignalError(spec, `signal ${signal} to ${pid}: ${(cause as NodeJS.ErrnoException).code ?? String(cause)}`, { cause });
  }
  return { pid, signal };
}

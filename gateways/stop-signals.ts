// How the process stops, as nats-server does: SIGTERM and SIGINT stop it
// cleanly (listeners closed, clients told, stores flushed, exit 0), whether it
// runs under npm (`exec` in the start script hands npm's forwarded signal to
// it), from the bin, or as PID 1 in a container (where a signal with no
// handler is ignored, so the handlers here are what makes `docker stop`
// work). SIGUSR2 is lame duck mode (`--signal ldm=<pid>`, process-signal.ts):
// stop accepting, tell the clients, close them spread over lame_duck_duration,
// then stop.

/** How long a clean stop may take before the process exits anyway (code 1). */
export const SHUTDOWN_TIMEOUT_MS = 10_000;

export interface Stoppable {
  lameDuck(durationMs: number, graceMs: number): Promise<void>;
  stop(): Promise<void>;
}

/** The part of pino this uses. */
interface StopLogger {
  info(fields: object | string, message?: string): void;
  error(message: string): void;
  flush(): void;
}

export function handleStopSignals(app: Stoppable, logger: StopLogger, lameDuck: { durationMs: number; graceMs: number }): void {
  let stopping: Promise<void> | null = null;
  const stop = (signal: NodeJS.Signals, extraMs: number): Promise<void> => {
    stopping ??= (async () => {
      const force = setTimeout(() => {
        logger.error('shutdown timed out; exiting');
        logger.flush();
        process.exit(1);
      }, extraMs + SHUTDOWN_TIMEOUT_MS);
      force.unref();
      if (extraMs > 0) {
        logger.info({ signal, durationMs: lameDuck.durationMs, graceMs: lameDuck.graceMs }, 'entering lame duck mode');
        await app.lameDuck(lameDuck.durationMs, lameDuck.graceMs);
      }
      logger.info({ signal }, 'shutting down');
      await app.stop();
      logger.info('stopped');
      logger.flush();
      process.exit(0);
    })();
    return stopping;
  };
  // process.on, not once: under npm a Ctrl-C reaches the process twice (from the terminal
  // and forwarded by npm), and a second signal with no handler would kill it mid-stop.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void stop(signal, 0));
  process.on('SIGUSR2', () => void stop('SIGUSR2', lameDuck.durationMs));
}

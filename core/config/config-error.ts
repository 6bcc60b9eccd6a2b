// The one error type for invalid configuration, from a file, the command line
// or the environment. It names the key (as the user wrote it, with its path)
// and the reason, so the message alone tells an operator what to fix.

export class ConfigError extends Error {
  /** Dotted path of the offending key, e.g. `authorization.users[1].password`. */
  readonly key: string;
  readonly reason: string;
  /** Where the value came from: a file path, `command line` or `environment`. */
  readonly source: string | undefined;

  constructor(key: string, reason: string, options: { source?: string; cause?: unknown } = {}) {
    super(`${options.source ? `${options.source}: ` : ''}invalid "${key}": ${reason}`, { cause: options.cause });
    this.name = 'ConfigError';
    this.key = key;
    this.reason = reason;
    this.source = options.source;
  }
}

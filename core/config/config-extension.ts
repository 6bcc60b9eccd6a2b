// How parts the core does not know (protocol gateways, connectors) add to the
// configuration: config-file sections, command-line flags, SWITCHBOARD_*
// variables and help text. The core's loader takes a list of these; it knows
// no gateway by name (DESIGN "Dependency rule": core/config knows no gateway).
// Whoever composes the process (gateways/registry.ts) supplies the list.

/** One flag an extension adds; its value lands in the merged settings under `key`, like a core flag's. */
export interface ExtensionFlag {
  /** The settings key (nats-server style, e.g. `kafka_brokers`). */
  readonly key: string;
  /** The flag without its leading dashes, e.g. `kafka-brokers` or `mqtt_port`. */
  readonly flag: string;
  readonly type: 'string' | 'boolean';
  /** Repeatable: every occurrence is kept, in order. */
  readonly multiple?: boolean;
  /** The SWITCHBOARD_* variable that sets it too (true/false for a boolean flag). */
  readonly env?: string;
  /**
   * An error about `key` that came from the command line or the environment
   * names the flag (or variable) as the user typed it, as the core's own
   * flags do; otherwise it names the settings key.
   */
  readonly namedInErrors?: boolean;
}

/** Where an extension's help block goes in `--help`. */
export type HelpPlacement = 'after-server' | 'after-cluster';

export interface ConfigExtension {
  /** Top-level config-file sections it owns: passed through unvalidated into SwitchboardConfig.sections, for the extension to validate. */
  readonly sections: readonly string[];
  readonly flags: readonly ExtensionFlag[];
  /** One block of `--help` (a heading line and indented flag lines, ending in a newline). */
  readonly help?: { readonly placement: HelpPlacement; readonly text: string };
  /**
   * Lay the flag and environment settings (the merged settings, by key) over
   * the raw sections. Throws ConfigError naming the settings key, so the error
   * carries where the value came from.
   */
  applySettings?(sections: Record<string, unknown>, settings: Readonly<Record<string, unknown>>): void;
  /**
   * Validate its sections once the settings are laid over (`defaultHost`: the
   * NATS host), while the loader still knows where each came from: throws
   * ConfigError naming the key; returns the keys it accepts without effect.
   */
  check?(sections: Readonly<Record<string, unknown>>, defaultHost: string): readonly ConfigWarning[];
}

/** A key accepted without effect (a nats-server setting with no meaning here): logged at startup with where it came from. */
export interface ConfigWarning {
  /** Dotted path, e.g. `mqtt.ack_wait`. */
  readonly key: string;
  readonly reason: string;
}

/** Every flag of every extension, in order. */
export function extensionFlags(extensions: readonly ConfigExtension[]): ExtensionFlag[] {
  return extensions.flatMap((extension) => extension.flags);
}

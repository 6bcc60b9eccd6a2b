// The registry: one descriptor per gateway and connector, in the order they
// are built, started and listed in --help. main.ts, the config loader and
// --help iterate over it, so adding a protocol is a folder with a
// descriptor.ts and one line here. core/config knows none of them: it gets
// their sections, flags and variables as ConfigExtensions.

import type { ConfigExtension, ConfigWarning } from '../core/config/config-extension.ts';
import { loadConfig as loadCoreConfig, type LoadResult } from '../core/config/load-config.ts';
import { usage } from '../core/config/command-line.ts';
import { bool } from '../core/config/setting-values.ts';
import { kafkaDescriptor } from '../connectors/kafka/descriptor.ts';
import { httpDescriptor } from './http/descriptor.ts';
import { disableSection } from './listener-section.ts';
import { mqttDescriptor } from './mqtt/descriptor.ts';
import { websocketDescriptor } from './websocket/descriptor.ts';

export const REGISTRY = [mqttDescriptor, httpDescriptor, websocketDescriptor, kafkaDescriptor] as const;

/** Any descriptor of the registry (each is typed by its own section). */
export type RegisteredDescriptor = (typeof REGISTRY)[number];

/** Every descriptor's section, parsed: `sections.mqtt.host`, `sections.kafka?.mappings`. */
export type GatewaySections = { [D in RegisteredDescriptor as D['name']]: ReturnType<D['parse']> };

const GATEWAYS_HEADING = 'Gateways (on by default; 0 = any free port; _tlsmap = verify_and_map):\n';
const NO_GATEWAYS_HELP = '      --no_gateways            start only the NATS core (and monitoring)\n';

/** What the registry adds to the core's configuration: each descriptor's section and flags, and the Gateways group (its help block, --no_gateways). */
export function configExtensions(): ConfigExtension[] {
  const gateways = REGISTRY.filter((d) => d.kind === 'gateway');
  const group: ConfigExtension = {
    sections: [],
    flags: [{ key: 'no_gateways', flag: 'no_gateways', type: 'boolean' }],
    help: { placement: 'after-server', text: GATEWAYS_HEADING + gateways.map((d) => d.help).join('') + NO_GATEWAYS_HELP },
    applySettings(sections, settings) {
      // After each gateway's own settings, so its port flag does not turn it back on.
      if (settings.no_gateways !== undefined && bool(settings.no_gateways, 'no_gateways')) for (const d of gateways) disableSection(d.name, sections);
    },
  };
  const own = REGISTRY.map(
    (d): ConfigExtension => ({
      sections: [d.name],
      flags: d.flags,
      help: d.kind === 'connector' ? { placement: 'after-cluster', text: d.help } : undefined,
      applySettings: d.applySettings,
      // A descriptor with warnings is parsed at load too (main.ts parses again to build), so a
      // bad key and a warning name the file (the others are parsed once, when built).
      check: d.warnings === undefined ? undefined : (sections, defaultHost) => {
        const section = d.parse(sections[d.name], defaultHost);
        return (d.warnings as (s: typeof section) => readonly ConfigWarning[])(section);
      },
    }),
  );
  return [...own, group];
}

/** The whole configuration, the registry's sections and flags included (see core/config/load-config.ts). */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): LoadResult {
  return loadCoreConfig(argv, env, configExtensions());
}

/** `--help`, with every gateway's and connector's flags. */
export const USAGE = usage(configExtensions());

/** Validate every descriptor's section; throws ConfigError naming the key. Gateways listen on the NATS host unless their section says otherwise. */
export function parseSections(raw: Readonly<Record<string, unknown>>, defaultHost: string): GatewaySections {
  return Object.fromEntries(REGISTRY.map((d) => [d.name, d.parse(raw[d.name], defaultHost)])) as GatewaySections;
}

// The command line, modelled on nats-server's flags where they overlap
// (`nats-server --help`). Flags become settings under nats-server's key names,
// so one validator (switchboard-config.ts) checks file, environment and flags.

import { parseArgs } from 'node:util';
import { CLUSTER_KEYS } from './cluster-options.ts';
import { ConfigError } from './config-error.ts';
import { extensionFlags, type ConfigExtension, type HelpPlacement } from './config-extension.ts';
import { flagName } from './setting-values.ts';

/** The core's parts of `--help`, in order; extension blocks go after SERVER_HELP or CLUSTER_HELP. */
const SERVER_HELP = `Usage: switchboard [options]

Server options:
  -a, --addr, --net <host>     NATS listen address (default 127.0.0.1)
  -p, --port <port>            NATS client port (default 4222; 0 = any free port)
  -n, --name <name>            server name (default switchboard)
  -m, --http_port <port>       monitoring port (default 8222; 0 = any free port)
      --http_host <host>       monitoring address (default: the NATS address)
  -ms, --https_port <port>     monitoring over HTTPS with the tls block's certificate
      --no_monitor             do not start the monitoring listener
  -c, --config <file>          configuration file: .json, .yaml/.yml, or nats-server format
  -js, --jetstream             enable JetStream (on by default)
      --no_jetstream           run without JetStream
  -sd, --store_dir <dir>       JetStream storage directory
      --js_domain <domain>     JetStream domain: the API answers as $JS.<domain>.API across leaf links
      --leafnode_remote <url>  dial this hub's leafnode port (nats-leaf://[user:pass@]host:7422; repeatable)
      --leafnode_port <port>   accept leaf connections on this port (0 = any free port)
`;

const CLUSTER_HELP = `Cluster mode (no embedded core; the gateways run on a NATS cluster with JetStream):
      --nats-url <urls>        comma-separated server URLs, e.g. nats://h1:4222,nats://h2:4222
                               (nats://user:pass@host or nats://token@host carry credentials)
      --nats-user <user>       user for the cluster
      --nats-pass <password>   password for the cluster
      --nats-token <token>     token for the cluster
      --nats-tls-ca <file>     CA that signs the cluster's certificates (enables TLS)
      --nats-tls-cert <file>   client certificate for the cluster
      --nats-tls-key <file>    client certificate key
      --stream-replicas <n>    replicas of the streams the gateways create (default 1)
  Startup stops with exit code 2 when no server of the cluster can be reached.
`;

const TAIL_HELP = `Authentication:
      --user <user>            user required for connections
      --pass <password>        password required for connections (plain or bcrypt)
      --auth <token>           token required for connections

TLS:
      --tls                    enable TLS on the NATS listener (clients not verified)
      --tlscert <file>         server certificate
      --tlskey <file>          server private key
      --tlscacert <file>       CA that signs client certificates
      --tlsverify              enable TLS and require verified client certificates

Logging:
  -l, --log <file>             write logs to this file
      --log_level <level>      fatal, error, warn, info (default), debug or trace
      --log_format <format>    json (default, one object a line) or text (for a terminal)
  -D, --debug                  debug output (connections opened and closed)
  -V, --trace                  trace protocol operations
  -DV                          debug and trace

Common:
  -sl, --signal <command>[=<pid>]
                               signal a running server and exit: reload (SIGHUP: users,
                               permissions, certificates, limits), ldm, stop, quit, term,
                               reopen; <pid> may be a pid file
  -h, --help                   show this help
  -v, --version                show the version
`;

/** The core's variables, as lines; extensions' variables continue the last line. */
const ENV_HELP = `Environment (applied over the config file, under the flags):
  SWITCHBOARD_CONFIG, SWITCHBOARD_ADDR, SWITCHBOARD_PORT, SWITCHBOARD_NAME,
  SWITCHBOARD_HTTP_PORT, SWITCHBOARD_HTTP_HOST, SWITCHBOARD_HTTPS_PORT,
  SWITCHBOARD_MONITOR (false = off), SWITCHBOARD_USER, SWITCHBOARD_PASS, SWITCHBOARD_AUTH,
  SWITCHBOARD_JETSTREAM, SWITCHBOARD_STORE_DIR, SWITCHBOARD_LOG_LEVEL, SWITCHBOARD_LOG_FORMAT,
  SWITCHBOARD_LOG_FILE, SWITCHBOARD_JS_DOMAIN, SWITCHBOARD_LEAFNODE_REMOTE (comma-separated),
  SWITCHBOARD_LEAFNODE_PORT,
  SWITCHBOARD_TLS_CERT, SWITCHBOARD_TLS_KEY, SWITCHBOARD_TLS_CA, SWITCHBOARD_TLS_VERIFY,
  SWITCHBOARD_NATS_URL, SWITCHBOARD_NATS_USER, SWITCHBOARD_NATS_PASS, SWITCHBOARD_NATS_TOKEN,
  SWITCHBOARD_NATS_TLS_CA, SWITCHBOARD_NATS_TLS_CERT, SWITCHBOARD_NATS_TLS_KEY,
  SWITCHBOARD_STREAM_REPLICAS`;
/** Width the variables list wraps at. */
const ENV_WIDTH = 92;

/** Variable names appended to the last line of `lines`, each line kept within ENV_WIDTH. */
function wrapVariables(lines: string, names: readonly string[]): string {
  const out = lines.split('\n');
  for (const name of names) {
    const last = out.length - 1;
    if (out[last].length + 2 + name.length + 1 > ENV_WIDTH) {
      out[last] += ',';
      out.push(`  ${name}`);
    } else {
      out[last] += `, ${name}`;
    }
  }
  return `${out.join('\n')}\n`;
}

/** `--help`: the core's options with each extension's block in its place, then every variable. */
export function usage(extensions: readonly ConfigExtension[] = []): string {
  const blocks = (placement: HelpPlacement): string[] => extensions.flatMap((e) => (e.help?.placement === placement ? [e.help.text] : []));
  const variables = extensionFlags(extensions).flatMap((f) => (f.env === undefined ? [] : [f.env]));
  return [SERVER_HELP, ...blocks('after-server'), CLUSTER_HELP, ...blocks('after-cluster'), TAIL_HELP, wrapVariables(ENV_HELP, variables)].join('\n');
}

export interface CommandLine {
  help: boolean;
  version: boolean;
  configFile?: string;
  /** `--signal <command>[=<pid or pid file>]`: signal a running server and exit (gateways/process-signal.ts). */
  signal?: string;
  /** Settings in nats-server's key names. */
  settings: Record<string, unknown>;
}

/** nats-server's multi-letter single-dash flags, which node's parseArgs cannot express. */
const ALIASES: Record<string, string[]> = {
  '-js': ['--jetstream'],
  '-sd': ['--store_dir'],
  '-ms': ['--https_port'],
  '-sl': ['--signal'],
  '-DV': ['-D', '-V'],
  '-VD': ['-D', '-V'],
};

export function parseCommandLine(argv: readonly string[], extensions: readonly ConfigExtension[] = []): CommandLine {
  const args = argv.flatMap((a) => ALIASES[a] ?? [a]);
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        addr: { type: 'string', short: 'a' },
        net: { type: 'string' },
        port: { type: 'string', short: 'p' },
        name: { type: 'string', short: 'n' },
        server_name: { type: 'string' },
        http_port: { type: 'string', short: 'm' },
        http_host: { type: 'string' },
        https_port: { type: 'string' },
        no_monitor: { type: 'boolean' },
        config: { type: 'string', short: 'c' },
        jetstream: { type: 'boolean' },
        no_jetstream: { type: 'boolean' },
        ...Object.fromEntries(CLUSTER_KEYS.map((key) => [flagName(key), { type: 'string' as const }])),
        ...Object.fromEntries(extensionFlags(extensions).map((f) => [f.flag, { type: f.type, multiple: f.multiple === true }])),
        store_dir: { type: 'string' },
        js_domain: { type: 'string' },
        leafnode_remote: { type: 'string', multiple: true },
        leafnode_port: { type: 'string' },
        user: { type: 'string' },
        pass: { type: 'string' },
        auth: { type: 'string' },
        tls: { type: 'boolean' },
        tlscert: { type: 'string' },
        tlskey: { type: 'string' },
        tlscacert: { type: 'string' },
        tlsverify: { type: 'boolean' },
        log: { type: 'string', short: 'l' },
        log_level: { type: 'string' },
        log_format: { type: 'string' },
        debug: { type: 'boolean', short: 'D' },
        trace: { type: 'boolean', short: 'V' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        signal: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (cause) {
    const message = cause instanceof Error ? cause.message : String(cause);
    const flag = /'(-[^' ]+)/.exec(message)?.[1] ?? 'command line';
    throw new ConfigError(flag, message.replace(/\. To specify.*$/s, ''), { source: 'command line', cause });
  }
  return {
    help: values.help === true,
    version: values.version === true,
    configFile: values.config as string | undefined,
    signal: values.signal as string | undefined,
    settings: toSettings(values, 'flag', extensions),
  };
}

/** Flags that map straight to one setting (flag name -> nats-server key), in order: later wins. */
const RENAMES: ReadonlyArray<readonly [flag: string, key: string]> = [
  ['addr', 'host'],
  ['net', 'host'],
  ['port', 'port'],
  ['name', 'server_name'],
  ['server_name', 'server_name'],
  ['http_port', 'http_port'],
  ['http_host', 'http_host'],
  ['https_port', 'https_port'],
  ['monitor', 'monitor'],
  ['jetstream', 'jetstream'],
  ['store_dir', 'store_dir'],
  ['js_domain', 'js_domain'],
  ['leafnode_remote', 'leafnode_remote'],
  ['leafnode_port', 'leafnode_port'],
  ['log', 'log_file'],
  ['log_level', 'log_level'],
  ['log_format', 'log_format'],
  ['debug', 'debug'],
  ['trace', 'trace'],
  ...CLUSTER_KEYS.map((key) => [flagName(key), key] as const),
];

/** Flag-style values (strings and booleans) to settings; shared with the environment mapper. */
export function toSettings(values: Record<string, string | boolean | string[] | undefined>, kind: 'flag' | 'env', extensions: readonly ConfigExtension[]): Record<string, unknown> {
  const s: Record<string, unknown> = {};
  const name = (flag: string, env: string): string => (kind === 'flag' ? `--${flag}` : env);
  for (const [flag, key] of RENAMES) if (values[flag] !== undefined) s[key] = values[flag];
  for (const { flag, key } of extensionFlags(extensions)) if (values[flag] !== undefined) s[key] = values[flag];
  if (values.no_monitor === true) s.monitor = false;
  if (values.no_jetstream === true) s.jetstream = false;
  if (values.auth !== undefined) s.authorization = { token: values.auth };
  if (values.user !== undefined || values.pass !== undefined) {
    if (values.auth !== undefined) throw new ConfigError(name('auth', 'SWITCHBOARD_AUTH'), `cannot be combined with ${name('user', 'SWITCHBOARD_USER')}/${name('pass', 'SWITCHBOARD_PASS')}`, { source: kind === 'flag' ? 'command line' : 'environment' });
    if (values.user === undefined || values.pass === undefined) {
      throw new ConfigError(values.user === undefined ? name('user', 'SWITCHBOARD_USER') : name('pass', 'SWITCHBOARD_PASS'), 'is required when the other of user/pass is given', { source: kind === 'flag' ? 'command line' : 'environment' });
    }
    s.authorization = { user: values.user, password: values.pass };
  }
  const tlsWanted = values.tls === true || values.tlsverify === true || values.tlscert !== undefined || values.tlskey !== undefined;
  if (tlsWanted) {
    const tls: Record<string, unknown> = {};
    if (values.tlscert !== undefined) tls.cert_file = values.tlscert;
    if (values.tlskey !== undefined) tls.key_file = values.tlskey;
    if (values.tlscacert !== undefined) tls.ca_file = values.tlscacert;
    if (values.tlsverify !== undefined) tls.verify = values.tlsverify;
    s.tls = tls;
  }
  return s;
}

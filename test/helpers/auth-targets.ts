// Start Switchboard and Debian's nats-server from one nats-server-layout
// configuration (written to a temporary file for nats-server).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import { parseAuthorization } from '../../core/config/auth-options.ts';
import type { Peer } from './peers.ts';
import { startNatsServer, startSwitchboard, type RunningServer } from './servers.ts';

export interface ConfiguredTarget {
  readonly name: string;
  /** Reference peers the target runs on: its suite is registered with `{ peers }` (peer-test.ts). */
  readonly peers?: readonly Peer[];
  start(config: Record<string, unknown>): Promise<RunningServer>;
}

export function configuredTargets(): ConfiguredTarget[] {
  return [
    {
      name: 'switchboard',
      start: (config) => startSwitchboard({}, { authorizer: createAuthorizer(parseAuthorization(config.authorization, config.no_auth_user)) }),
    },
    {
      name: 'nats-server',
      peers: ['nats-server'],
      async start(config) {
        const dir = mkdtempSync(join(tmpdir(), 'switchboard-auth-'));
        const file = join(dir, 'nats.conf');
        writeFileSync(file, JSON.stringify(config, null, 2));
        const server = await startNatsServer(['-c', file]);
        return {
          ...server,
          async stop() {
            await server.stop();
            rmSync(dir, { recursive: true, force: true });
          },
        };
      },
    },
  ];
}

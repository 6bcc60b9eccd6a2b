// Start Switchboard and Debian's nats-server from one nats-server-layout
// configuration (written to a temporary file for nats-server).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAuthorizer } from '../../core/auth/create-authorizer.ts';
import { parseAuthorization } from '../../core/config/auth-options.ts';
import { requirePeer, startNatsServer, startSwitchboard, type RunningServer } from './servers.ts';

export interface ConfiguredTarget {
  readonly name: string;
  start(config: Record<string, unknown>): Promise<RunningServer>;
}

export function configuredTargets(): ConfiguredTarget[] {
  const targets: ConfiguredTarget[] = [
    {
      name: 'switchboard',
      start: (config) => startSwitchboard({}, { authorizer: createAuthorizer(parseAuthorization(config.authorization, config.no_auth_user)) }),
    },
  ];
  if (requirePeer('nats-server')) {
    targets.push({
      name: 'nats-server',
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
    });
  }
  return targets;
}

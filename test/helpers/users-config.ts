// A config file with the two users the console and gateway tests log in as: an
// admin with every permission, and a viewer limited to `public.>` (so the
// secret subjects, JetStream's API and nats-server's KICK subject are refused).

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const USERS = {
  admin: { user: 'admin', password: 'pw-admin' },
  viewer: { user: 'viewer', password: 'pw-viewer', permissions: { publish: ['public.>'], subscribe: ['public.>'] } },
} as const;

/** `Authorization: Basic` for one of USERS. */
export function basicAuth(name: keyof typeof USERS): { authorization: string } {
  const { user, password } = USERS[name];
  return { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** Writes `<dir>/switchboard.json` with USERS and any further sections; returns its path. */
export function writeUsersConfig(dir: string, sections: Record<string, unknown> = {}): string {
  const file = join(dir, 'switchboard.json');
  writeFileSync(file, JSON.stringify({ authorization: { users: Object.values(USERS) }, ...sections }));
  return file;
}

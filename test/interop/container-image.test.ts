// The Dockerfile without a Docker engine (issue 30): the build context has
// every file the Dockerfile copies and leaves out node_modules, dist and .git;
// the image is multi-stage, runs as a non-root user, keeps its store on a
// VOLUME and checks /healthz. Then the image's final stage is laid out in a
// temporary directory (package.json, node_modules, dist, the health check) and
// run as a container would: its ENTRYPOINT and CMD as PID 1 of a new PID
// namespace (`unshare --pid --fork`), as an unprivileged user, with the store
// in a directory only that user owns; the HEALTHCHECK command reports healthy,
// and SIGTERM (`docker stop`) stops it with exit code 0.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commandAvailable, freePort, PROJECT_ROOT, waitForOutput } from '../helpers/servers.ts';

interface Instruction {
  readonly op: string;
  readonly args: string;
}

/** The Dockerfile's instructions by stage (continuation lines joined, comments dropped). */
function stages(): Instruction[][] {
  const text = readFileSync(join(PROJECT_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const out: Instruction[][] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const [op, ...rest] = trimmed.split(/\s+/);
    if (op.toUpperCase() === 'FROM') out.push([]);
    out[out.length - 1].push({ op: op.toUpperCase(), args: rest.join(' ') });
  }
  return out;
}

const ignored = readFileSync(join(PROJECT_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
const exec = (instruction: Instruction | undefined): string[] => JSON.parse(instruction?.args ?? '[]') as string[];

describe('container image', () => {
  it('container image - multi-stage, non-root, a VOLUME for the store, HEALTHCHECK on /healthz, exec-form entry point', () => {
    const [build, final] = stages();
    assert.ok(build !== undefined && final !== undefined, 'two stages');
    assert.match(build[0].args, /^node:20\S* AS build$/);
    assert.ok(build.some((i) => i.op === 'RUN' && /npm ci/.test(i.args)), 'dependencies are installed at build time');
    assert.ok(build.some((i) => i.op === 'RUN' && /npm run build/.test(i.args) && /npm prune --omit=dev/.test(i.args)));
    const user = final.filter((i) => i.op === 'USER').at(-1);
    assert.ok(user !== undefined && !['root', '0'].includes(user.args), 'the final stage runs as a non-root user');
    assert.deepEqual(exec(final.find((i) => i.op === 'VOLUME')), ['/data']);
    const health = final.find((i) => i.op === 'HEALTHCHECK')?.args ?? '';
    assert.match(health, /CMD \["node", "gateways\/bin\/healthcheck\.mjs"\]/);
    assert.match(readFileSync(join(PROJECT_ROOT, 'gateways/bin/healthcheck.mjs'), 'utf8'), /127\.0\.0\.1:8222\/healthz/);
    assert.deepEqual(exec(final.find((i) => i.op === 'ENTRYPOINT')), ['node', 'dist/switchboard.mjs']);
    assert.ok(exec(final.find((i) => i.op === 'CMD')).includes('/data/jetstream'), 'the JetStream store is on the volume');
    assert.ok(!final.some((i) => i.op === 'RUN' && /npm (ci|install)/.test(i.args)), 'nothing is installed in the final stage');
  });

  it('container image - the build context holds what the Dockerfile copies and leaves out node_modules, dist and .git', () => {
    for (const entry of ['node_modules', 'dist', '.git']) assert.ok(ignored.includes(entry), `.dockerignore leaves out ${entry}`);
    for (const instruction of stages().flat().filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = instruction.args.split(/\s+/).slice(0, -1);
      for (const source of sources) {
        assert.ok(existsSync(join(PROJECT_ROOT, source)), `${source} exists`);
        assert.ok(!ignored.includes(source), `${source} is not left out of the context`);
      }
    }
  });

  it('container image - the final stage runs as PID 1, unprivileged: healthy, then a clean stop on SIGTERM', { skip: !commandAvailable('unshare') || !commandAvailable('setpriv') || process.getuid?.() !== 0 }, async () => {
    const build = spawnSync('npm', ['run', 'build'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    // The image's /app and /data, as the final stage's COPY lines lay them out.
    const root = mkdtempSync(join(tmpdir(), 'switchboard-image-'));
    chmodSync(root, 0o755); // readable by the unprivileged user, as an image's /app is
    try {
      const app = join(root, 'app');
      const data = join(root, 'data');
      mkdirSync(join(app, 'gateways/bin'), { recursive: true });
      mkdirSync(data);
      cpSync(join(PROJECT_ROOT, 'package.json'), join(app, 'package.json'));
      cpSync(join(PROJECT_ROOT, 'dist'), join(app, 'dist'), { recursive: true });
      cpSync(join(PROJECT_ROOT, 'gateways/bin/healthcheck.mjs'), join(app, 'gateways/bin/healthcheck.mjs'));
      symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(app, 'node_modules'));
      const NOBODY = 65534;
      chownSync(data, NOBODY, NOBODY);
      const [final] = stages().slice(-1);
      const command = [...exec(final.find((i) => i.op === 'ENTRYPOINT')), ...exec(final.find((i) => i.op === 'CMD'))].map((a) => a.replace('/data', data));
      const monitor = await freePort();
      // Ports of our own: other tests on this machine may hold the defaults.
      const ports = ['-p', String(await freePort()), '-m', String(monitor), '--mqtt_port', '0', '--http_gateway_port', '0', '--websocket_port', '0'];
      const child = spawn('unshare', ['--pid', '--fork', '--kill-child', 'setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, ...command.slice(1), ...ports], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
      const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
      let output = '';
      child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitForOutput(child, 'Switchboard ready', 30_000);
      assert.match(output, new RegExp(`"storeDir":"${data}/jetstream"`), 'the store is on the volume');

      const health = spawnSync(process.execPath, ['gateways/bin/healthcheck.mjs', `http://127.0.0.1:${monitor}/healthz`], { cwd: app });
      assert.equal(health.status, 0, 'HEALTHCHECK reports healthy');
      const pid = Number(spawnSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).stdout.trim());
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /^NSpid:\s+\d+\s+1$/m, 'node is PID 1 in its namespace');
      assert.match(status, new RegExp(`^Uid:\\s+${NOBODY}\\s`, 'm'), 'and runs unprivileged');

      process.kill(pid, 'SIGTERM'); // what `docker stop` sends to PID 1
      const [code] = await exited;
      assert.equal(code, 0, output.slice(-2000));
      assert.match(output, /"msg":"stopped"/);
      const after = spawnSync(process.execPath, ['gateways/bin/healthcheck.mjs', `http://127.0.0.1:${monitor}/healthz`], { cwd: app });
      assert.equal(after.status, 1, 'and the health check then fails');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

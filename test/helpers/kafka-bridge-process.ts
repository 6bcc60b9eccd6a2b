// Helpers for the kill -9 tests: the Kafka bridge as a child process
// (kafka-bridge-main.ts), the mock cluster behind its proxy, and a probe for a
// JetStream server whose consumer API answers.

import { spawn, type ChildProcess } from 'node:child_process';
import { startKafkaMock, type KafkaMock } from './kafka-mock.ts';
import { startKafkaProxy, type KafkaProxy } from './kafka-proxy.ts';
import { PROJECT_ROOT, stopChild, waitForOutput } from './servers.ts';

export interface ProxiedKafka {
  mock: KafkaMock;
  proxy: KafkaProxy;
  stop(): Promise<void>;
}

export async function startProxiedKafka(): Promise<ProxiedKafka> {
  const mock = await startKafkaMock();
  const proxy = await startKafkaProxy();
  proxy.retarget(mock.brokers);
  return {
    mock,
    proxy,
    async stop() {
      await proxy.close();
      await mock.stop();
    },
  };
}

export interface BridgeProcess {
  child: ChildProcess;
  /** The last `messages` count the child reported (it prints its metrics every second). */
  reported(): number;
}

export function spawnBridge(natsUrl: string, config: unknown): BridgeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/kafka-bridge-main.ts', natsUrl, JSON.stringify(config)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let last = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    for (const match of chunk.toString().matchAll(/"messages":([0-9]+)/g)) last = Number(match[1]);
  });
  child.stderr?.resume();
  return { child, reported: () => last };
}

export interface KillPlan {
  /** How many copies to start and kill -9. */
  kills: number;
  /** The messages the whole run moves; kills are spread over it. */
  total: number;
  /** Starts a fresh copy of the bridge. */
  start(): ChildProcess;
  /** How far the flow has got (messages stored on the far side). */
  progress(): Promise<number>;
  /** A kill lands this long (random, up to the bound) after the copy's progress mark. */
  jitterMs: { min: number; max: number };
  /** Called after each kill with how many kills have happened (1-based); lets a producer hold back records so later kills still land mid-flow. */
  onKill?(kills: number): void;
}

/**
 * Starts and kill -9s copies of the bridge one after another. Each copy is killed
 * once it has made progress and the flow has reached its share of `total`, so the
 * kills spread over the run and land mid-flow. Returns the progress after each kill.
 */
export async function killBridgeRepeatedly(plan: KillPlan): Promise<number[]> {
  const counts: number[] = [];
  for (let kill = 0; kill < plan.kills; kill++) {
    const child = plan.start();
    await waitForOutput(child, 'kafka bridge ready', 30_000);
    const before = await plan.progress();
    const mark = Math.floor(((kill + 1) * plan.total) / (plan.kills + 2));
    const deadline = Date.now() + 20_000 + plan.total / 5;
    for (;;) {
      const now = await plan.progress();
      if ((now !== before && now >= mark) || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, plan.jitterMs.min + Math.floor(Math.random() * (plan.jitterMs.max - plan.jitterMs.min))));
    await stopChild(child, 'SIGKILL');
    counts.push(await plan.progress());
    plan.onKill?.(kill + 1);
  }
  return counts;
}

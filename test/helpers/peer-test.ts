// node:test's describe/it/hooks with a `peers` option, so a test that needs a
// reference peer is registered whether or not the peer is installed (issue 27):
//   describe(`limits (${target.name})`, { peers: target.peers }, () => { before(...); it(...); });
//   it('http publish - curl ...', { peers: ['curl'] }, async () => { ... });
// With every peer present these are node:test's own functions. With one missing,
// each test of the suite is still registered: a skip naming the peer, or under
// CI=true a failure naming it (MissingPeerError); the suite's hooks are left out,
// since they would start the missing peer. Files that take describe/it from here
// take before/after from here too, so the hooks see the same scope.

import * as nodeTest from 'node:test';
import type { HookFn, HookOptions, SuiteFn, TestFn, TestOptions } from 'node:test';
import { MissingPeerError, missingPeer, missingPeerReason, peersRequired, type Peer } from './peers.ts';

export interface PeerTestOptions extends TestOptions {
  /** Commands the test or suite needs (see peers.ts). */
  readonly peers?: readonly Peer[];
}

/**
 * The missing peer of the innermost suite being registered. Suite bodies run
 * synchronously inside describe() (node:test builds suites eagerly), so a
 * module-level value scopes exactly the tests and hooks registered in the body.
 */
let missingInSuite: Peer | undefined;

function split<F>(optionsOrFn: PeerTestOptions | F | undefined, fn: F | undefined): { options: PeerTestOptions; fn: F | undefined } {
  return typeof optionsOrFn === 'function' ? { options: {}, fn: optionsOrFn } : { options: optionsOrFn ?? {}, fn };
}

function missingFor(peers: readonly Peer[] | undefined): Peer | undefined {
  return missingInSuite ?? missingPeer(peers ?? []);
}

export function describe(name: string, fn: SuiteFn): void;
export function describe(name: string, options: PeerTestOptions, fn: SuiteFn): void;
export function describe(name: string, optionsOrFn: PeerTestOptions | SuiteFn, maybeFn?: SuiteFn): void {
  const { options, fn } = split(optionsOrFn, maybeFn);
  const { peers, ...rest } = options;
  const missing = missingFor(peers);
  void nodeTest.describe(name, rest, (suite) => {
    const outer = missingInSuite;
    missingInSuite = missing;
    try {
      const built = fn?.(suite);
      // A suite body that awaits would register its later tests outside this scope.
      if (built instanceof Promise && missing !== undefined) throw new Error(`suite "${name}" needs ${missing}: its body must be synchronous`);
      return built;
    } finally {
      missingInSuite = outer;
    }
  });
}

export function it(name: string, fn: TestFn): void;
export function it(name: string, options: PeerTestOptions, fn: TestFn): void;
export function it(name: string, optionsOrFn: PeerTestOptions | TestFn, maybeFn?: TestFn): void {
  const { options, fn } = split(optionsOrFn, maybeFn);
  const { peers, ...rest } = options;
  const missing = missingFor(peers);
  if (missing === undefined) {
    void nodeTest.it(name, rest, fn);
  } else if (peersRequired()) {
    void nodeTest.it(name, rest, () => {
      throw new MissingPeerError(missing);
    });
  } else {
    void nodeTest.it(name, { ...rest, skip: missingPeerReason(missing) }, fn);
  }
}

function hook(register: (fn: HookFn, options?: HookOptions) => void): (fn: HookFn, options?: HookOptions) => void {
  return (fn, options) => {
    if (missingInSuite === undefined) register(fn, options);
  };
}

export const before = hook(nodeTest.before);
export const after = hook(nodeTest.after);
export const beforeEach = hook(nodeTest.beforeEach);
export const afterEach = hook(nodeTest.afterEach);

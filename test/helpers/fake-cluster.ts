/** A fresh fake API server for every test of a describe block, with its kubeconfig and a logger. */
import { afterEach, beforeEach } from 'vitest';
import { FakeApiServer } from '../e2e/fake-apiserver.js';
import { memoryLogger, tempDir } from './async.js';

/** What a test starts against the server: an informer, a source, a runtime. */
interface Stoppable {
  stop(): Promise<void> | void;
}

export interface FakeCluster {
  /** The running test's server. */
  readonly api: FakeApiServer;
  /** The running test's logger and the lines written to it. */
  readonly log: ReturnType<typeof memoryLogger>;
  /** Writes a kubeconfig for the server into the test's temporary directory; returns its path. */
  kubeconfigPath(): Promise<string>;
  /** Stops `subject` when the test ends, before the server stops. Returns `subject`. */
  stopAfterTest<T extends Stoppable>(subject: T): T;
}

/**
 * Registers a beforeEach that starts a fake API server (with a temporary directory and a memory
 * logger) and an afterEach that stops what the test started, then the server.
 */
export function useFakeApiServer(): FakeCluster {
  let api: FakeApiServer | undefined;
  let dir: Awaited<ReturnType<typeof tempDir>> | undefined;
  let log: ReturnType<typeof memoryLogger> | undefined;
  let subjects: Stoppable[] = [];
  const current = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fake API server runs only inside a test');
    return value;
  };

  beforeEach(async () => {
    api = new FakeApiServer();
    dir = await tempDir();
    await api.start();
    log = memoryLogger();
  });

  afterEach(async () => {
    const started = subjects;
    subjects = [];
    for (const subject of started.reverse()) await subject.stop();
    await api?.stop();
    await dir?.cleanup();
    api = undefined;
    dir = undefined;
    log = undefined;
  });

  return {
    get api() {
      return current(api);
    },
    get log() {
      return current(log);
    },
    kubeconfigPath: () => current(api).writeKubeconfig(current(dir).path),
    stopAfterTest(subject) {
      subjects.push(subject);
      return subject;
    },
  };
}

/**
 * A client-node `ListWatch` that survives: client-node stops an informer on any list or watch error
 * (see its examples/typescript/informer), so this wrapper restarts it with exponential backoff and
 * jitter. A `410 Gone` (stale resourceVersion, https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses)
 * is handled by ListWatch itself: it clears the resourceVersion and relists.
 */
import {
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface BackoffOptions {
  /** First restart delay. */
  initialMs: number;
  /** Upper bound of the restart delay. */
  maxMs: number;
}

/**
 * Capped at 2 s: after an API-server outage the next relist comes at most ~2 s after its return,
 * so the caches are current within 3 s. One LIST per informer every 2 s while the API server is
 * down is a small load next to what the API server's own clients retry with.
 */
export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 2_000 };

export type ChangeVerb = 'add' | 'update' | 'delete';

export interface InformerOptions<T extends KubernetesObject> {
  /** Short name used in logs and metrics (`namespaces`, `configmaps`, `nodes`). */
  name: string;
  /** Collection path, e.g. `/api/v1/namespaces`. */
  path: string;
  /** Used for the watch requests (may carry an `Accept` override). */
  kubeConfig: KubeConfig;
  list: ListPromise<T>;
  logger: Logger;
  backoff?: BackoffOptions;
  /** Called after each list or watch event that changed the cache. */
  onChange?: (verb: ChangeVerb, obj: T) => void;
  /** Called when the informer restarts after an error. */
  onRestart?: () => void;
  /**
   * Trims each object before it is cached (listed or watched), so the cache holds only the fields
   * the injector reads: nodes carry image lists, metadata carries managedFields.
   */
  transform?: (obj: T) => T;
  /** A restart delay for this error instead of the backoff (e.g. slow retries while forbidden). */
  retryDelay?: (err: unknown) => number | undefined;
  /** True: the failure is already explained elsewhere; log the restart at debug level only. */
  quiet?: (err: unknown) => boolean;
}

export interface ResilientInformer<T extends KubernetesObject> extends ObjectCache<T> {
  /** True once the first list has been applied to the cache. */
  synced(): boolean;
  /** False from a list or watch failure until the next successful list or event. */
  connected(): boolean;
  /** Resolves after the first list has been applied (never rejects; retries on failure). */
  whenSynced(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/** Quiet period after which the backoff starts again from `initialMs`. */
const BACKOFF_RESET_MS = 60_000;

export function createInformer<T extends KubernetesObject>(
  opts: InformerOptions<T>,
): ResilientInformer<T> {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const log = opts.logger.child({ informer: opts.name });
  let hasSynced = false;
  let connected = true;
  let stopped = true;
  let failures = 0;
  let lastFailureAt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let resolveSynced: () => void = () => undefined;
  const syncedPromise = new Promise<void>((resolve) => {
    resolveSynced = resolve;
  });

  const transform = opts.transform ?? ((obj: T): T => obj);
  const listFn: ListPromise<T> = async () => {
    const fetched = await opts.list();
    // stop() during a list: end here instead of letting ListWatch open a watch afterwards.
    if (stopped) throw new Error('informer stopped');
    const list = { ...fetched, items: fetched.items.map(transform) };
    // ListWatch applies the items right after this promise settles; a macrotask later they are
    // in the cache, so `synced()` never reports an empty cache as ready.
    setImmediate(() => {
      failures = 0;
      connected = true;
      if (!hasSynced) {
        hasSynced = true;
        log.info({ items: list.items.length }, 'informer synced');
        resolveSynced();
      }
    });
    return list;
  };

  // ListWatch's own pause between watch reconnects must not keep the process alive after stop().
  const delayFn = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      setTimeout(resolve, ms).unref();
    });
  const listWatch = new ListWatch<T>(
    opts.path,
    new GuardedWatch(opts.kubeConfig, () => stopped, transform),
    listFn,
    false,
    undefined,
    undefined,
    { delayFn },
  );
  const onObject = (verb: ChangeVerb) => (obj: T) => {
    failures = 0;
    connected = true;
    opts.onChange?.(verb, obj);
  };
  listWatch.on('add', onObject('add'));
  listWatch.on('update', onObject('update'));
  listWatch.on('delete', onObject('delete'));
  function onError(err: unknown): void {
    if (stopped) return;
    connected = false;
    const now = Date.now();
    if (now - lastFailureAt > BACKOFF_RESET_MS) failures = 0;
    lastFailureAt = now;
    failures += 1;
    const delayMs = opts.retryDelay?.(err) ?? restartDelay(backoff, failures);
    if (opts.quiet?.(err) === true) {
      log.debug({ err, attempt: failures, delayMs }, 'informer failed; restarting');
    } else {
      log.warn({ err, attempt: failures, delayMs }, 'informer failed; restarting');
    }
    opts.onRestart?.();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(run, delayMs);
    retryTimer.unref();
  }
  listWatch.on('error', onError);

  function run(): void {
    if (stopped) return;
    // ListWatch.start reports list and watch failures through 'error'; anything thrown is retried too.
    listWatch.start().catch(onError);
  }

  return {
    get: (name, namespace) => listWatch.get(name, namespace),
    list: (namespace) => listWatch.list(namespace),
    synced: () => hasSynced,
    connected: () => connected,
    whenSynced: () => syncedPromise,
    start(): void {
      if (!stopped) return;
      stopped = false;
      run();
    },
    async stop(): Promise<void> {
      stopped = true;
      clearTimeout(retryTimer);
      await listWatch.stop();
    },
  };
}

/** A Watch that trims watched objects and does not outlive a stop() racing with its connection. */
class GuardedWatch<T extends KubernetesObject> extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly isStopped: () => boolean,
    private readonly transform: (obj: T) => T,
  ) {
    super(kubeConfig);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const controller = await super.watch(
      path,
      queryParams,
      (phase, apiObj, watchObj) => {
        // ERROR carries a Status and BOOKMARK only a resourceVersion: both pass through untouched.
        const isObject = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED';
        callback(phase, isObject ? this.transform(apiObj as T) : apiObj, watchObj);
      },
      done,
    );
    if (this.isStopped()) controller.abort();
    return controller;
  }
}

/** Exponential backoff with ±20 % jitter so replicas do not reconnect in lockstep. */
export function restartDelay(backoff: BackoffOptions, attempt: number): number {
  const base = Math.min(backoff.initialMs * 2 ** Math.max(0, attempt - 1), backoff.maxMs);
  const jitter = 0.8 + Math.random() * 0.4;
  return Math.round(Math.min(base * jitter, backoff.maxMs));
}

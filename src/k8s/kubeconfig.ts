/**
 * Loading the API-server connection, the metadata-only content negotiation used by the
 * Namespace cache, and the HTTP status of a failed call. Only src/k8s imports
 * @kubernetes/client-node at runtime.
 */
import {
  KubeConfig,
  Observable,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';
import { InjectorError } from '../errors.js';

/**
 * Server-side conversion to PartialObjectMetadata: the API server answers with metadata only
 * (https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables and
 * client-go's metadata client). The trailing plain `application/json` lets a server that does not
 * support the conversion answer with full objects, which the cache reads the same way.
 */
export const ACCEPT_PARTIAL_METADATA =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
export const ACCEPT_PARTIAL_METADATA_LIST =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

/** A kubeconfig file when a path is given, else the pod's service account (in-cluster). */
export function loadKubeConfig(kubeconfigPath?: string): KubeConfig {
  const kc = new KubeConfig();
  applySource(kc, kubeconfigPath);
  return kc;
}

function applySource(kc: KubeConfig, kubeconfigPath: string | undefined): void {
  if (kubeconfigPath === undefined || kubeconfigPath === '') {
    kc.loadFromCluster();
    return;
  }
  try {
    kc.loadFromFile(kubeconfigPath);
  } catch (err: unknown) {
    throw new InjectorError(
      'INJ_ERR_CLI_USAGE',
      `kubeconfig ${kubeconfigPath} cannot be loaded: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        details: [{ field: '--kubeconfig', value: kubeconfigPath, reason: String(err) }],
      },
    );
  }
  if (kc.getCurrentCluster() === null) {
    throw new InjectorError(
      'INJ_ERR_CLI_USAGE',
      `kubeconfig ${kubeconfigPath} has no current context with a cluster`,
      { details: [{ field: '--kubeconfig', value: kubeconfigPath, reason: 'no current cluster' }] },
    );
  }
}

/**
 * A KubeConfig whose requests carry a fixed `Accept` header. client-node's `Watch` builds its request
 * from `applySecurityAuthentication`, so this is where a watch can ask for PartialObjectMetadata.
 */
export class AcceptingKubeConfig extends KubeConfig {
  constructor(private readonly accept: string) {
    super();
  }

  static from(kubeconfigPath: string | undefined, accept: string): AcceptingKubeConfig {
    const kc = new AcceptingKubeConfig(accept);
    applySource(kc, kubeconfigPath);
    return kc;
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    context.setHeaderParam('Accept', this.accept);
  }
}

/**
 * Per-call options for the generated API clients: an `Accept` override and an abort signal.
 * Middleware `pre` runs after the request factory has set its own `Accept`, so ours wins. The
 * object-parameter API hands these options to the observable layer unwrapped, hence ObservableMiddleware.
 */
export function requestOptions(opts: { accept?: string; signal?: AbortSignal }): {
  middleware: ObservableMiddleware[];
  middlewareMergeStrategy: 'append';
} {
  return {
    middleware: [
      {
        pre: (ctx: RequestContext): Observable<RequestContext> => {
          if (opts.accept !== undefined) ctx.setHeaderParam('Accept', opts.accept);
          if (opts.signal !== undefined) ctx.setSignal(opts.signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext): Observable<ResponseContext> =>
          new Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  };
}

/** HTTP status of a client-node error (`ApiException.code`) or of a watch error (`statusCode`). */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

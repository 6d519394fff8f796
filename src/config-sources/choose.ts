/**
 * The one place that chooses where the injection configuration comes from, for every command.
 * Precedence, the same for `serve`, `inject` and `check`:
 *
 * | source       | chosen when                     | `serve` (live, reloaded)           | `inject` / `check` (read once)   |
 * | ------------ | ------------------------------- | ---------------------------------- | -------------------------------- |
 * | `config-dir` | `--config-dir` is given         | the directory, watched             | the directory's files            |
 * | `cluster`    | a cluster is reachable (below)  | the ConfigMap informer             | one GET of each ConfigMap        |
 * | `embedded`   | otherwise                       | the built-in default               | the built-in default             |
 *
 * "A cluster is reachable": `serve` without `--cluster-mode offline`; the offline commands with
 * `--kubeconfig`. A new source (template or ProxyConfig sources) is a new row here and in
 * CONFIG_SOURCES, implemented in this folder.
 */
import type { ConfigSources } from '../core/contracts.js';
import { readConfigDir } from './static.js';

export type ConfigSourceKind = 'config-dir' | 'cluster' | 'embedded';

export interface ConfigSourceRequest {
  configDir?: string | undefined;
  /** Whether the command talks to a cluster (see the table above). */
  cluster: boolean;
}

/** The source a command reads its configuration from. */
export function chooseConfigSource(request: ConfigSourceRequest): ConfigSourceKind {
  if (request.configDir !== undefined) return 'config-dir';
  if (request.cluster) return 'cluster';
  return 'embedded';
}

/** What an offline command needs to read a source once. */
export interface OnceReadRequest {
  configDir?: string | undefined;
  kubeconfig?: string | undefined;
  istioNamespace: string;
  revision: string;
}

/** Per source, how the offline commands read it once (the server's live variants are in main). */
export const CONFIG_SOURCES: Readonly<
  Record<ConfigSourceKind, { readOnce(request: OnceReadRequest): Promise<ConfigSources> }>
> = Object.freeze({
  'config-dir': {
    readOnce: (request) => readConfigDir(request.configDir ?? ''),
  },
  cluster: {
    async readOnce(request) {
      // Loaded on demand: the Kubernetes client is only needed when a cluster is asked.
      const { fetchConfigSources } = await import('../k8s/fetch-config.js');
      return fetchConfigSources({
        ...(request.kubeconfig === undefined ? {} : { kubeconfigPath: request.kubeconfig }),
        istioNamespace: request.istioNamespace,
        revision: request.revision,
      });
    },
  },
  embedded: { readOnce: () => Promise.resolve({}) },
});

/** The configuration texts of an offline command: the chosen source, read once. */
export function readConfigOnce(request: OnceReadRequest): Promise<ConfigSources> {
  const kind = chooseConfigSource({
    configDir: request.configDir,
    cluster: request.kubeconfig !== undefined,
  });
  return CONFIG_SOURCES[kind].readOnce(request);
}

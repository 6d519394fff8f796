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
 * On top of the chosen source, the offline commands take istioctl kube-inject's single files
 * (`--injectConfigFile`, `--valuesFile`, `--meshConfigFile`): each replaces that one input.
 *
 * "A cluster is reachable": `serve` without `--cluster-mode offline`; the offline commands with
 * `--kubeconfig`. A new source (template or ProxyConfig sources) is a new row here and in
 * CONFIG_SOURCES, implemented in this folder.
 *
 * ProxyConfig resources (`networking.istio.io/v1beta1`), which the core layers over the mesh
 * config per pod (src/core/proxy-config-resources.ts), have their own rows:
 *
 * | source      | chosen when                          | read by                                      |
 * | ----------- | ------------------------------------ | -------------------------------------------- |
 * | `cluster`   | `serve` with a cluster               | an informer (src/k8s/proxy-config-source.ts)  |
 * | `documents` | `inject`                             | the input's ProxyConfig documents and `--proxy-config` files (proxy-configs.ts) |
 * | `none`      | `serve --cluster-mode offline`, `check` | nothing: no resources                     |
 *
 * Like istioctl kube-inject, `inject --kubeconfig` does not read the cluster's resources: what it
 * applies is what it was given.
 */
import { readFile } from 'node:fs/promises';
import { loadInjectionConfigOrThrow } from '../core/config/load.js';
import type { InjectionConfig } from '../core/config/types.js';
import type { ConfigSources } from '../core/contracts.js';
import { InjectorError } from '../errors.js';
import { kubeconfigReader, type ClusterReader } from '../k8s/cluster-reader.js';
import {
  proxyConfigsFromDocuments,
  readProxyConfigFiles,
  type DocumentStream,
  type ProxyConfigDocuments,
} from './proxy-configs.js';
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
  /** Single files replacing one input each (istioctl kube-inject's file flags). */
  files?: Readonly<Partial<Record<keyof ConfigSources, string>>>;
}

/** Where an offline command's configuration comes from, as given on its command line. */
export interface ConfigRequest extends OnceReadRequest {
  /** `--set path=value` overrides (`values.global.proxy.statusPort=15021`, `meshConfig.x=y`). */
  set: readonly string[];
}

/** The flag that names each single file, for messages. */
export const CONFIG_FILE_FLAGS: Readonly<Record<keyof ConfigSources, string>> = Object.freeze({
  config: '--inject-config-file',
  values: '--values-file',
  mesh: '--mesh-config-file',
});

/** Per source, how the offline commands read it once (the server's live variants are in main). */
export const CONFIG_SOURCES: Readonly<
  Record<
    ConfigSourceKind,
    { readOnce(request: OnceReadRequest, cluster: ClusterReader): Promise<ConfigSources> }
  >
> = Object.freeze({
  'config-dir': {
    readOnce: (request) => readConfigDir(request.configDir ?? ''),
  },
  cluster: {
    readOnce(request, cluster) {
      return cluster.configSources({
        ...(request.kubeconfig === undefined ? {} : { kubeconfigPath: request.kubeconfig }),
        istioNamespace: request.istioNamespace,
        revision: request.revision,
      });
    },
  },
  embedded: { readOnce: () => Promise.resolve({}) },
});

/** The configuration texts of an offline command: the chosen source, read once, then the files. */
export async function readConfigOnce(
  request: OnceReadRequest,
  cluster: ClusterReader = kubeconfigReader,
): Promise<ConfigSources> {
  const kind = chooseConfigSource({
    configDir: request.configDir,
    cluster: request.kubeconfig !== undefined,
  });
  const sources = await CONFIG_SOURCES[kind].readOnce(request, cluster);
  const files = Object.entries(request.files ?? {}) as [keyof ConfigSources, string][];
  const read = await Promise.all(
    files.map(async ([input, path]) => {
      try {
        return [input, await readFile(path, 'utf8')] as const;
      } catch (error) {
        const reason = (error as Error).message;
        throw new InjectorError(
          'INJ_ERR_CONFIG_INVALID',
          `${CONFIG_FILE_FLAGS[input]} ${path}: ${reason}`,
          { details: [{ field: CONFIG_FILE_FLAGS[input], value: path, reason }], cause: error },
        );
      }
    }),
  );
  return { ...sources, ...Object.fromEntries(read) };
}

/** An offline command's configuration: read once, `--set` applied, validated (throws InjectorError). */
export async function loadConfigOnce(
  request: ConfigRequest,
  cluster: ClusterReader = kubeconfigReader,
): Promise<InjectionConfig> {
  const sources = await readConfigOnce(request, cluster);
  return loadInjectionConfigOrThrow(
    { ...sources, set: request.set },
    request.revision === '' ? {} : { revision: request.revision },
  );
}

export type ProxyConfigSourceKind = 'cluster' | 'documents' | 'none';

/** Where a command's ProxyConfig resources come from (the second table above). */
export function chooseProxyConfigSource(request: {
  command: 'serve' | 'inject' | 'check';
  cluster: boolean;
}): ProxyConfigSourceKind {
  if (request.command === 'serve') return request.cluster ? 'cluster' : 'none';
  return request.command === 'inject' ? 'documents' : 'none';
}

/** The flag naming files of ProxyConfig documents. */
export const PROXY_CONFIG_FLAG = '--proxy-config';

/** `inject`'s ProxyConfig resources: those among its input documents, then those of the files. */
export async function readProxyConfigsOnce(request: {
  inputs: readonly DocumentStream[];
  files: readonly string[];
}): Promise<ProxyConfigDocuments> {
  const files = await readProxyConfigFiles(request.files, PROXY_CONFIG_FLAG);
  return proxyConfigsFromDocuments(request.inputs, files);
}

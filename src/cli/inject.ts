/**
 * `sidecar-injector inject`: offline injection of manifests (`istioctl kube-inject` semantics,
 * spec §2.5 and §10) with the webhook's own pipeline. See docs/offline.md.
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { loadConfigOnce, readProxyConfigsOnce } from '../config-sources/choose.js';
import { detectNativeSidecars } from '../core/native-sidecars.js';
import { InjectorError } from '../errors.js';
import { kubeconfigReader, type ClusterReader } from '../k8s/cluster-reader.js';
import { kubeInjector } from '../offline/kube-inject.js';
import { injectManifest, type ManifestResult } from '../offline/manifest.js';
import { renderJson, renderPatches, renderYaml } from '../offline/output.js';
import { all, first, type FlagSpec } from './flags.js';
import { EXIT, type CliCommand } from './io.js';
import { offlineCommand } from './offline-command.js';

export const INJECT_USAGE = `Usage: sidecar-injector inject -f <file|dir|-> [flags]

Injects the sidecar into every workload of the manifests (Deployment, StatefulSet, DaemonSet,
ReplicaSet, ReplicationController, Job, CronJob, Pod, DeploymentConfig, List) and prints them.

  -f, --filename <file|dir|->   input manifests (a directory: its *.yaml, *.yml, *.json in name order)
  -o, --output yaml|json|patch  rewritten manifests (default yaml), JSON, or kustomize patches
      --output-file <file>      write the result there instead of standard output
      --config-dir <dir>        injector configuration files: config, values, mesh
      --inject-config-file <file>, --injectConfigFile <file>
                                the injector's config (istioctl kube-inject's flag)
      --values-file <file>, --valuesFile <file>
                                the injector's values
      --mesh-config-file <file>, --meshConfigFile <file>
                                the MeshConfig; each file replaces that input of the source above
      --kubeconfig <file>       read the configuration ConfigMaps from the cluster
      --istio-namespace <ns>    namespace of the configuration ConfigMaps (default istio-system)
      --revision <rev>          control-plane revision (default: the default revision)
      --set <path>=<value>      override a value (values.global.proxy.includeIPRanges=10.0.0.0/8)
                                or a mesh setting (meshConfig.defaultConfig.holdApplicationUntilProxyStarts=true)
      --proxy-config <file>     networking.istio.io/v1beta1 ProxyConfig resources to apply (repeatable);
                                ProxyConfig documents among the manifests are applied too. Either
                                way they configure the injected proxies and are not printed
      --native-sidecars auto|enabled|disabled
                                proxy as a native sidecar (an init container; Kubernetes >= 1.33).
                                auto (default): with --kubeconfig, when every node's kubelet is
                                1.33 or newer; without a cluster, enabled

Exit codes: 0 done, 1 failure (bad manifest, injection error, unreachable cluster), 2 usage.
`;

export const INJECT_FLAGS: readonly FlagSpec[] = [
  { name: 'output-file', kind: 'string' },
  // kubectl's habit: -o is the format; the file has its own flag.
  { name: 'output', short: 'o', kind: 'enum', choices: ['yaml', 'json', 'patch'] },
  { name: 'native-sidecars', kind: 'enum', choices: ['auto', 'enabled', 'disabled'] },
  { name: 'proxy-config', kind: 'string', repeatable: true },
];

/** The `inject` command over a cluster reader (for `--kubeconfig`). */
export function createInjectCommand(cluster: ClusterReader): CliCommand {
  return offlineCommand({
    flags: INJECT_FLAGS,
    usage: INJECT_USAGE,
    run: async ({ flags, inputs, io, request }) => {
      const config = await loadConfigOnce(request, cluster);
      const nativeSidecars = await nativeSidecarsFor(
        cluster,
        first(flags, 'native-sidecars') ?? 'auto',
        request.kubeconfig,
      );
      const proxyConfigs = await readProxyConfigsOnce({
        inputs,
        files: all(flags, 'proxy-config').map((path) => resolve(io.cwd, path)),
      });
      for (const warning of proxyConfigs.warnings) io.stderr(`warning: ${warning}\n`);
      const injector = kubeInjector(config, {
        nativeSidecars,
        ...(proxyConfigs.set.size === 0 ? {} : { proxyConfigs: proxyConfigs.set }),
      });

      const results: { result: ManifestResult; text: string }[] = [];
      for (const input of inputs) {
        const result = injectManifest(input.text, input.source, injector);
        for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`);
        results.push({ result, text: input.text });
      }
      const output = render(results, first(flags, 'output') ?? 'yaml');
      const outFile = first(flags, 'output-file');
      if (outFile === undefined) io.stdout(output);
      else await writeOutput(resolve(io.cwd, outFile), output);
      return EXIT.OK;
    },
  });
}

export const runInject: CliCommand = createInjectCommand(kubeconfigReader);

/**
 * The global native-sidecar decision (spec §2.4): the flag when explicit; in `auto`, the cluster's
 * nodes when a kubeconfig is given, else on (every supported Kubernetes release has native sidecars
 * from 1.33).
 */
async function nativeSidecarsFor(
  cluster: ClusterReader,
  mode: string,
  kubeconfig: string | undefined,
): Promise<boolean> {
  if (mode !== 'auto') return mode === 'enabled';
  if (kubeconfig === undefined) return true;
  return detectNativeSidecars('auto', await cluster.nodeVersions(kubeconfig));
}

function render(results: { result: ManifestResult; text: string }[], format: string): string {
  const manifests = results.map(({ result }) => result);
  if (format === 'json') return renderJson(manifests);
  if (format === 'patch') return renderPatches(manifests);
  return joinStreams(results.map(({ result, text }) => renderYaml(result, text)));
}

/** Concatenates the outputs of several files into one YAML stream. */
function joinStreams(parts: readonly string[]): string {
  let out = '';
  for (const part of parts) {
    if (part.trim() === '') continue;
    if (out !== '') {
      if (!out.endsWith('\n')) out += '\n';
      if (!part.startsWith('---')) out += '---\n';
    }
    out += part;
  }
  return out;
}

async function writeOutput(path: string, text: string): Promise<void> {
  try {
    await writeFile(path, text, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InjectorError('INJ_ERR_MANIFEST_INVALID', `${path}: cannot write: ${reason}`, {
      details: [{ field: '--output-file', value: path, reason }],
      cause: error,
    });
  }
}

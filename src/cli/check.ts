/**
 * `sidecar-injector check`: would the webhook inject each pod or workload of a manifest, and why.
 * Combines the webhook configuration's selectors (spec §2.1, with namespace labels from flags or
 * from the cluster) and the server's own decision (spec §2.2). See docs/offline.md.
 */
import { loadConfigOnce } from '../config-sources/choose.js';
import type { NamespaceInfo } from '../core/contracts.js';
import type { StringMap } from '../core/pod-types.js';
import { tagsPointingAt } from '../core/revision-tags.js';
import { kubeconfigReader, type ClusterReader } from '../k8s/cluster-reader.js';
import {
  checkManifest,
  namespacesOf,
  parseLabelList,
  renderCheckJson,
  renderCheckText,
  webhookConfigurationLabelsOf,
  type CheckResult,
} from '../offline/check.js';
import { first, type FlagSpec } from './flags.js';
import { EXIT, type CliCommand } from './io.js';
import { offlineCommand } from './offline-command.js';

export const CHECK_USAGE = `Usage: sidecar-injector check -f <file|dir|-> [flags]

Explains, for every pod or workload of the manifests, whether the webhook would inject it and why:
the webhook configuration's namespace and pod selectors, then the injector's policy (pod label or
annotation, never/always selectors, policy, host network, system namespaces).

  -f, --filename <file|dir|->     input manifests
      --namespace <ns>            namespace of objects that do not set one (default "default")
      --namespace-labels k=v,...  labels of the namespace(s); without it and without --kubeconfig
                                  the selectors are not evaluated
      --kubeconfig <file>         read namespace labels, the configuration and the revision
                                  tags (MutatingWebhookConfigurations) from the cluster
      --config-dir <dir>          injector configuration files: config, values, mesh
      --inject-config-file, --values-file, --mesh-config-file <file>
                                  single configuration files, as for inject (istioctl's
                                  --injectConfigFile, --valuesFile, --meshConfigFile too)
      --istio-namespace <ns>      namespace of the configuration ConfigMaps (default istio-system)
      --revision <rev>            control-plane revision
      --set <path>=<value>        override a value or mesh setting
  -o, --output text|json          one line per workload (default), or JSON for scripts

Revision tags: tag MutatingWebhookConfigurations among the manifests (as \`tag set --dry-run\`
or \`istioctl tag generate\` print them) and, with --kubeconfig, the cluster's count as the server
counts them: a tag labelled istio.io/rev=<this revision> selects this revision.

With --cluster (no -f): audits the running cluster instead; see \`check --cluster --help\`.

Exit codes: 0 checked (whatever the verdicts), 1 failure, 2 usage.
`;

export const CHECK_FLAGS: readonly FlagSpec[] = [
  { name: 'namespace', short: 'n', kind: 'string' },
  {
    name: 'namespace-labels',
    kind: 'string',
    // Empty: the namespace has no labels (besides its name).
    allowEmpty: true,
    conflicts: ['kubeconfig'],
    check: (value) => {
      const labels = parseLabelList(value);
      return 'error' in labels ? labels.error : undefined;
    },
  },
  { name: 'output', short: 'o', kind: 'enum', choices: ['text', 'json'] },
];

/** The Kubernetes-maintained label every namespace carries (used by the `auto.` webhook entry). */
const NAME_LABEL = 'kubernetes.io/metadata.name';

/** The `check` command over a cluster reader (for `--kubeconfig`). */
export function createCheckCommand(cluster: ClusterReader): CliCommand {
  return offlineCommand({
    flags: CHECK_FLAGS,
    usage: CHECK_USAGE,
    run: async ({ flags, inputs, io, request }) => {
      const labelsFlag = first(flags, 'namespace-labels');
      const parsedLabels = labelsFlag === undefined ? undefined : parseLabelList(labelsFlag);
      // A bad label list is a usage problem reported while parsing the flags.
      const flagLabels =
        parsedLabels === undefined || 'error' in parsedLabels ? undefined : parsedLabels;
      const defaultNamespace = first(flags, 'namespace') ?? 'default';
      const config = await loadConfigOnce(request, cluster);
      // Revision tags, as the server learns them (src/k8s/webhook-configurations.ts): from the
      // tag MutatingWebhookConfigurations among the manifests and, with --kubeconfig, the cluster's.
      const labels: StringMap[] = inputs.flatMap((i) =>
        webhookConfigurationLabelsOf(i.text, i.source),
      );
      if (request.kubeconfig !== undefined) {
        const fromCluster = await cluster.webhookConfigurationLabels(request.kubeconfig);
        if (fromCluster === undefined) {
          io.stderr(
            'warning: cannot list MutatingWebhookConfigurations (forbidden or not served): revision tags come only from values.revisionTags and the manifests\n',
          );
        } else labels.push(...fromCluster);
      }
      const revisionTags = tagsPointingAt(
        labels.map((l) => ({ labels: l })),
        config.revision,
      );

      const known = new Map<string, NamespaceInfo | undefined>();
      if (request.kubeconfig !== undefined) {
        const names = new Set(
          inputs.flatMap((i) => namespacesOf(i.text, i.source, defaultNamespace)),
        );
        for (const name of names) {
          known.set(name, await cluster.namespace(request.kubeconfig, name));
        }
      }
      const namespaceInfo = (name: string): NamespaceInfo | undefined => {
        if (flagLabels !== undefined) {
          return { name, labels: { [NAME_LABEL]: name, ...flagLabels }, annotations: {} };
        }
        return known.get(name);
      };

      const results: CheckResult[] = inputs.flatMap((input) =>
        checkManifest(input.text, input.source, {
          defaultNamespace,
          namespaceInfo,
          config,
          revisionTags,
        }),
      );
      io.stdout(
        first(flags, 'output') === 'json' ? renderCheckJson(results) : renderCheckText(results),
      );
      return EXIT.OK;
    },
  });
}

const checkManifests: CliCommand = createCheckCommand(kubeconfigReader);

/** `check --cluster` audits the running cluster (src/cli/check-cluster.ts); else manifests. */
export const runCheck: CliCommand = async (argv, io) => {
  if (!argv.includes('--cluster')) return checkManifests(argv, io);
  const { runClusterCheck } = await import('./check-cluster.js');
  return runClusterCheck(argv, io);
};

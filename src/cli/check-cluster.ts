/**
 * `sidecar-injector check --cluster [-n NS]`: the audit the server runs, once, from a kubeconfig.
 * Lists running pods that lack the sidecar the configuration would inject now or run a stale
 * proxy, grouped by the workload to restart with the command that fixes them, then what the
 * webhook self-check finds in the MutatingWebhookConfigurations.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { evaluatePods, type PodFinding } from '../core/audit/pods.js';
import { auditWebhooks, type WebhookFinding } from '../core/audit/webhooks.js';
import { tagsPointingAt } from '../core/revision-tags.js';
import { InjectorError } from '../errors.js';
import { loadConfigOnce } from '../config-sources/choose.js';
import { kubeconfigReader, type ClusterReader } from '../k8s/cluster-reader.js';
import type { ClusterSnapshot } from '../k8s/fetch-audit.js';
import { all, first, parseFlags, usageError, type FlagSpec } from './flags.js';
import { EXIT, type CliCommand } from './io.js';
import { runGuarded } from './offline-command.js';

export const CHECK_CLUSTER_USAGE = `Usage: sidecar-injector check --cluster [-n NS] [flags]

Reads the cluster once and reports what the running server's audit reports:
  - pods the current configuration would inject but that have no istio-proxy (created while the
    injector was down, before their namespace was labelled, ...), pods injected by another
    revision than their namespace now selects (revision tags learned from the cluster's
    MutatingWebhookConfigurations, as the server learns them), and pods whose proxy image differs from the one
    injected now; each with the reason and the command that fixes it;
  - other injectors whose webhook selectors overlap ours, our entries whose caBundle does not
    verify the serving certificate (with --tls-cert), our entries that call another Service than
    --service, and risky failurePolicy/timeout settings.

  -n, --namespace <ns>            only the pods of this namespace
      --kubeconfig <file>         cluster to read (default: in-cluster service account)
      --istio-namespace <ns>      namespace of the configuration ConfigMaps (default istio-system)
      --revision <rev>            control-plane revision
      --set <path>=<value>        override a value or mesh setting
      --webhook-config <name>     our MutatingWebhookConfiguration (default sidecar-injector)
      --service <ns>/<name>       our Service (default sidecar-injector/sidecar-injector)
      --tls-cert <file>           the serving certificate (PEM), to check the caBundles
      --output text|json          grouped text (default), or JSON for scripts

Exit codes: 0 checked (whatever was found), 1 failure (cluster unreachable, ...), 2 usage.
`;

const FLAGS: readonly FlagSpec[] = [
  { name: 'cluster', kind: 'boolean' },
  { name: 'namespace', short: 'n', kind: 'string' },
  { name: 'kubeconfig', kind: 'string' },
  { name: 'istio-namespace', kind: 'string' },
  { name: 'revision', kind: 'string', allowEmpty: true },
  {
    name: 'set',
    kind: 'string',
    repeatable: true,
    check: (value) =>
      /^[^=]+=/.test(value) ? undefined : `expected <path>=<value>, got "${value}"`,
  },
  { name: 'webhook-config', kind: 'string' },
  {
    name: 'service',
    kind: 'string',
    check: (value) =>
      /^[a-z0-9-]+\/[a-z0-9-]+$/.test(value) ? undefined : `expected <ns>/<name>, got "${value}"`,
  },
  { name: 'tls-cert', kind: 'string' },
  { name: 'output', kind: 'enum', choices: ['text', 'json'] },
];

export interface ClusterCheckReport {
  /** Revision tags pointing at the checked revision, learned from the cluster as the server does. */
  revisionTags: string[];
  pods: PodFinding[];
  webhooks: WebhookFinding[];
  /** Set when the caBundles could not be checked. */
  caBundleNote?: string;
}

export interface ClusterCheckDeps {
  cluster: ClusterReader;
  snapshot: (opts: { kubeconfigPath?: string; namespace?: string }) => Promise<ClusterSnapshot>;
  verify: (served: string, caBundle: string) => { ok: true } | { ok: false; why: string };
}

/** Groups pod findings by workload and problem: one fix per workload. */
function groups(pods: readonly PodFinding[]): PodFinding[][] {
  const byKey = new Map<string, PodFinding[]>();
  for (const f of pods) {
    const key = `${f.namespace}\u0000${f.workload.kind}\u0000${f.workload.name}\u0000${f.problem}`;
    const list = byKey.get(key) ?? [];
    list.push(f);
    byKey.set(key, list);
  }
  return [...byKey.values()];
}

export function renderClusterCheckText(report: ClusterCheckReport): string {
  const out: string[] = [];
  if (report.revisionTags.length > 0) {
    out.push(`Revision tags pointing at this revision: ${report.revisionTags.join(', ')}.`);
  }
  const grouped = groups(report.pods);
  out.push(
    report.pods.length === 0
      ? 'Pods: every running pod matches the current configuration.'
      : `Pods: ${report.pods.length} pod(s) in ${grouped.length} workload(s) need a restart.`,
  );
  for (const group of grouped) {
    const f = group[0];
    if (f === undefined) continue;
    out.push(
      `  ${f.namespace}/${f.workload.kind}/${f.workload.name}: ${f.problem} (${group.length} pod(s): ${group.map((g) => g.pod).join(', ')})`,
      `    reason: ${f.reason}`,
      `    fix:    ${f.fix}`,
    );
  }
  out.push(
    report.webhooks.length === 0
      ? 'Webhooks: no overlap, caBundle or policy problem found.'
      : `Webhooks: ${report.webhooks.length} finding(s).`,
  );
  for (const w of report.webhooks) {
    const where = w.webhook === '' ? w.configuration : `${w.configuration}/${w.webhook}`;
    out.push(`  ${w.severity} ${w.code} ${where}`, `    ${w.message}`, `    fix: ${w.fix}`);
  }
  if (report.caBundleNote !== undefined) out.push(`  note: ${report.caBundleNote}`);
  return `${out.join('\n')}\n`;
}

export function createClusterCheckCommand(deps: ClusterCheckDeps): CliCommand {
  return (argv, io) =>
    runGuarded(io, async () => {
      const flags = parseFlags(argv, io.env, FLAGS);
      if (flags.help) {
        io.stdout(CHECK_CLUSTER_USAGE);
        return EXIT.OK;
      }
      if (flags.problems.length > 0) throw usageError(flags.problems);
      const kubeconfig = first(flags, 'kubeconfig');
      const kubeconfigPath = kubeconfig === undefined ? undefined : resolve(io.cwd, kubeconfig);
      const revision = first(flags, 'revision') ?? '';
      const namespace = first(flags, 'namespace');
      const config = await loadConfigOnce(
        {
          ...(kubeconfigPath === undefined ? {} : { kubeconfig: kubeconfigPath }),
          istioNamespace: first(flags, 'istio-namespace') ?? 'istio-system',
          revision: revision === 'default' ? '' : revision,
          set: all(flags, 'set'),
        },
        deps.cluster,
      );
      const snapshot = await deps.snapshot({
        ...(kubeconfigPath === undefined ? {} : { kubeconfigPath }),
        ...(namespace === undefined ? {} : { namespace }),
      });
      const [serviceNamespace, serviceName] = (
        first(flags, 'service') ?? 'sidecar-injector/sidecar-injector'
      ).split('/') as [string, string];
      const certPath = first(flags, 'tls-cert');
      let served: string | undefined;
      if (certPath !== undefined) {
        try {
          served = await readFile(resolve(io.cwd, certPath), 'utf8');
        } catch (error) {
          throw new InjectorError(
            'INJ_ERR_CLI_USAGE',
            `--tls-cert ${certPath}: cannot read: ${(error as Error).message}`,
            { cause: error },
          );
        }
      }
      // The server's informer feeds the same function (src/k8s/webhook-configurations.ts).
      const revisionTags = tagsPointingAt(snapshot.webhooks, config.revision);
      const report: ClusterCheckReport = {
        revisionTags,
        pods: evaluatePods(snapshot.pods, (n) => snapshot.namespaces.get(n), config, revisionTags),
        webhooks: auditWebhooks(snapshot.webhooks, {
          ownConfiguration: first(flags, 'webhook-config') ?? 'sidecar-injector',
          service: { namespace: serviceNamespace, name: serviceName },
          ...(served === undefined
            ? {}
            : { verifyCaBundle: (bundle: string) => deps.verify(served, bundle) }),
        }),
        ...(served === undefined
          ? { caBundleNote: 'caBundles not checked: give --tls-cert with the serving certificate' }
          : {}),
      };
      io.stdout(
        first(flags, 'output') === 'json'
          ? `${JSON.stringify(report, null, 2)}\n`
          : renderClusterCheckText(report),
      );
      return EXIT.OK;
    });
}

/** The command wired to the cluster reads (loaded on demand). */
export const runClusterCheck: CliCommand = async (argv, io) => {
  const [{ fetchClusterSnapshot }, { verifyCaBundle }] = await Promise.all([
    import('../k8s/fetch-audit.js'),
    import('../tls/ca-bundle.js'),
  ]);
  return createClusterCheckCommand({
    cluster: kubeconfigReader,
    snapshot: fetchClusterSnapshot,
    verify: verifyCaBundle,
  })(argv, io);
};

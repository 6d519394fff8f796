/**
 * `sidecar-injector tag set|list|remove`: revision tags as `istioctl tag` writes them (a
 * MutatingWebhookConfiguration labelled istio.io/tag and istio.io/rev, so Istio's tooling lists
 * them too), pointing at our Service. The plans come from src/core/revision-tags.ts; this file
 * parses flags, talks to the cluster through the TagCluster port and prints.
 */
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import {
  planTagRemove,
  planTagSet,
  tagRows,
  TAG_LABEL,
  type TagListRow,
  type TagWebhookConfiguration,
} from '../core/revision-tags.js';
import { KEY } from '../core/annotations/keys.js';
import { NAMESPACE_INJECTION_LABEL } from '../core/webhook-selectors.js';
import { InjectorError } from '../errors.js';
import { first, parseFlags, usageError, type FlagSpec } from './flags.js';
import { EXIT, type CliCommand, type CliIO } from './io.js';
import { runGuarded } from './offline-command.js';

export const TAG_USAGE = `Usage: sidecar-injector tag <set|list|remove> [TAG] [flags]

Revision tags are stable names (prod, stable, default) for a revision: label a namespace
${KEY.rev}=<tag> once, then move the tag from revision to revision. A tag is a
MutatingWebhookConfiguration labelled ${TAG_LABEL}=<tag>, ${KEY.rev}=<revision>, built from the
revision's own configuration (same Service, caBundle, failurePolicy, timeout); the injector of
that revision learns the tag from it. istioctl tag list shows these tags too.

  sidecar-injector tag set TAG --revision REV [--overwrite] [--dry-run]
      create TAG pointing at REV, or move it with --overwrite. The tag "default" also takes
      over ${NAMESPACE_INJECTION_LABEL}=enabled and ${KEY.inject}=true, and neutralises the
      default revision's entries (as istioctl does) so no pod is injected twice.
  sidecar-injector tag list [-o table|json|yaml]
      every tag, the revision it points at, its configurations and the namespaces using it.
  sidecar-injector tag remove TAG [--skip-confirmation] [--dry-run]
      delete the tag's configurations; refused while namespaces are labelled with it unless
      --skip-confirmation (their new pods would start without a sidecar).

Flags:
  -r, --revision <rev>            the revision the tag points at (set; "default" for the default)
      --overwrite                 replace an existing tag, or one named like a revision (set)
      --dry-run                   print what would be written (YAML) and change nothing
  -y, --skip-confirmation         remove a tag that namespaces still use (remove)
      --webhook-config <name>     the revision's configuration, when several of ours serve it (set)
  -o, --output table|json|yaml    list format (default table)
      --kubeconfig <file>         cluster to use (default: in-cluster service account)

Exit codes: 0 done, 1 refused or failed (INJ_ERR_TAG_CONFLICT, INJ_ERR_TAG_NOT_FOUND,
INJ_ERR_REVISION_NOT_FOUND, INJ_ERR_KUBERNETES_API), 2 usage.
`;

export const TAG_SUBCOMMANDS = ['set', 'list', 'remove'] as const;
type Subcommand = (typeof TAG_SUBCOMMANDS)[number];

export const TAG_FLAGS: readonly FlagSpec[] = [
  { name: 'revision', short: 'r', kind: 'string', allowEmpty: true },
  { name: 'overwrite', kind: 'boolean' },
  { name: 'dry-run', kind: 'boolean' },
  { name: 'skip-confirmation', short: 'y', kind: 'boolean' },
  { name: 'webhook-config', kind: 'string' },
  { name: 'output', short: 'o', kind: 'enum', choices: ['table', 'json', 'yaml'] },
  { name: 'kubeconfig', kind: 'string' },
];

/** Which flags each subcommand takes (beside --kubeconfig and --help). */
const ALLOWED: Readonly<Record<Subcommand, readonly string[]>> = {
  set: ['revision', 'overwrite', 'dry-run', 'webhook-config'],
  list: ['output'],
  remove: ['skip-confirmation', 'dry-run'],
};

/** What the command needs from the cluster; src/k8s/tag-client.ts is the real one. */
export interface TagCluster {
  listWebhookConfigurations(): Promise<TagWebhookConfiguration[]>;
  /** Names of the namespaces labelled `istio.io/rev=<value>`. */
  namespacesLabelled(value: string): Promise<string[]>;
  create(configuration: TagWebhookConfiguration): Promise<void>;
  /** Replaces the object of the same name, guarded by `metadata.resourceVersion`. */
  replace(configuration: TagWebhookConfiguration): Promise<void>;
  remove(name: string): Promise<void>;
}

export type TagClusterFactory = (kubeconfigPath: string | undefined) => Promise<TagCluster>;

export function createTagCommand(connect: TagClusterFactory): CliCommand {
  return (argv, io) =>
    runGuarded(io, async () => {
      const [sub, ...rest] = argv;
      if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
        (sub === undefined ? io.stderr : io.stdout)(TAG_USAGE);
        return sub === undefined ? EXIT.USAGE : EXIT.OK;
      }
      if (!(TAG_SUBCOMMANDS as readonly string[]).includes(sub)) {
        throw usageError([`unknown tag subcommand "${sub}": use set, list or remove`]);
      }
      const subcommand = sub as Subcommand;
      const flags = parseFlags(rest, io.env, TAG_FLAGS, {
        operands: subcommand === 'list' ? 0 : 1,
      });
      if (flags.help) {
        io.stdout(TAG_USAGE);
        return EXIT.OK;
      }
      const problems = tagProblems(subcommand, flags);
      if (problems.length > 0) throw usageError(problems);
      const kubeconfig = first(flags, 'kubeconfig');
      const cluster = await connect(
        kubeconfig === undefined ? undefined : resolve(io.cwd, kubeconfig),
      );
      return runSubcommand(subcommand, cluster, io, flags);
    });
}

type TagFlags = ReturnType<typeof parseFlags>;

/** Every usage problem of one `tag` invocation, so the user sees them all at once. */
function tagProblems(subcommand: Subcommand, flags: TagFlags): string[] {
  const problems = [...flags.problems];
  for (const name of flags.values.keys()) {
    if (name !== 'kubeconfig' && !ALLOWED[subcommand].includes(name)) {
      problems.push(`--${name} does not apply to tag ${subcommand}`);
    }
  }
  if (subcommand !== 'list' && flags.positional[0] === undefined) {
    problems.push(`tag ${subcommand} needs a tag name: sidecar-injector tag ${subcommand} TAG`);
  }
  if (subcommand === 'set' && first(flags, 'revision') === undefined) {
    problems.push('tag set needs --revision: the revision the tag points at');
  }
  return problems;
}

function runSubcommand(
  subcommand: Subcommand,
  cluster: TagCluster,
  io: CliIO,
  flags: TagFlags,
): Promise<number> {
  const tag = flags.positional[0] ?? '';
  const dryRun = flags.values.has('dry-run');
  switch (subcommand) {
    case 'set':
      return setTag(cluster, io, {
        tag,
        revision: first(flags, 'revision') ?? '',
        overwrite: flags.values.has('overwrite'),
        dryRun,
        webhookConfig: first(flags, 'webhook-config'),
      });
    case 'list':
      return listTags(cluster, io, first(flags, 'output') ?? 'table');
    case 'remove':
      return removeTag(cluster, io, tag, {
        dryRun,
        skipConfirmation: flags.values.has('skip-confirmation'),
      });
  }
}

const toYaml = (objects: readonly unknown[]): string =>
  objects.map((o) => stringify(o, { lineWidth: 0 })).join('---\n');

async function setTag(
  cluster: TagCluster,
  io: CliIO,
  opts: {
    tag: string;
    revision: string;
    overwrite: boolean;
    dryRun: boolean;
    webhookConfig: string | undefined;
  },
): Promise<number> {
  const all = await cluster.listWebhookConfigurations();
  const plan = planTagSet(all, {
    tag: opts.tag,
    revision: opts.revision,
    overwrite: opts.overwrite,
    ...(opts.webhookConfig === undefined ? {} : { webhookConfiguration: opts.webhookConfig }),
  });
  const rev = plan.configuration.metadata.labels?.[KEY.rev] ?? opts.revision;
  if (opts.dryRun) {
    io.stdout(toYaml([plan.configuration, ...plan.deactivates]));
    for (const name of plan.deletes)
      io.stderr(`would delete MutatingWebhookConfiguration ${name}\n`);
    for (const c of plan.deactivates) {
      io.stderr(
        `would neutralise the default-revision entries of MutatingWebhookConfiguration ${c.metadata.name} (shown above)\n`,
      );
    }
    return EXIT.OK;
  }
  if (plan.replaces === undefined) await cluster.create(plan.configuration);
  else {
    await cluster.replace({
      ...plan.configuration,
      metadata: { ...plan.configuration.metadata, resourceVersion: plan.replaces },
    });
  }
  // Deleted only after ours exists: pods of tagged namespaces are never left without a webhook.
  for (const name of plan.deletes) {
    await cluster.remove(name);
    io.stdout(`Deleted MutatingWebhookConfiguration ${name}, which also held tag "${opts.tag}".\n`);
  }
  for (const c of plan.deactivates) {
    await cluster.replace(c);
    io.stdout(
      `Neutralised the default-revision entries of MutatingWebhookConfiguration ${c.metadata.name}: ${NAMESPACE_INJECTION_LABEL}=enabled now goes through tag "default".\n`,
    );
  }
  io.stdout(
    `Revision tag "${opts.tag}" ${plan.replaces === undefined ? 'created' : 'updated'}, referencing revision "${rev}" (MutatingWebhookConfiguration ${plan.configuration.metadata.name}, built from ${plan.source}).\n` +
      `To inject through it: kubectl label namespace <NAMESPACE> ${opts.tag === 'default' ? `${NAMESPACE_INJECTION_LABEL}=enabled` : `${KEY.rev}=${opts.tag}`} --overwrite\n`,
  );
  return EXIT.OK;
}

async function listTags(cluster: TagCluster, io: CliIO, output: string): Promise<number> {
  const all = await cluster.listWebhookConfigurations();
  const tags = [...new Set(all.map((c) => c.metadata.labels?.[TAG_LABEL] ?? '').filter(Boolean))];
  const namespaces = new Map<string, string[]>();
  for (const tag of tags) namespaces.set(tag, await cluster.namespacesLabelled(tag));
  const rows = tagRows(all, namespaces);
  if (output === 'json') io.stdout(`${JSON.stringify(rows, null, 2)}\n`);
  else if (output === 'yaml') io.stdout(stringify(rows));
  else io.stdout(renderTable(rows));
  return EXIT.OK;
}

function renderTable(rows: readonly TagListRow[]): string {
  if (rows.length === 0) return 'No revision tags found.\n';
  const table = [
    ['TAG', 'REVISION', 'NAMESPACES', 'CONFIGURATIONS'],
    ...rows.map((r) => [
      r.tag,
      r.revision,
      r.namespaces.join(',') || '-',
      r.configurations.join(','),
    ]),
  ];
  const widths =
    table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
  return `${table
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

async function removeTag(
  cluster: TagCluster,
  io: CliIO,
  tag: string,
  opts: { dryRun: boolean; skipConfirmation: boolean },
): Promise<number> {
  const all = await cluster.listWebhookConfigurations();
  const plan = planTagRemove(all, tag, await cluster.namespacesLabelled(tag));
  if (plan.namespaces.length > 0 && !opts.skipConfirmation && !opts.dryRun) {
    throw new InjectorError(
      'INJ_ERR_TAG_CONFLICT',
      `${plan.namespaces.length} namespace(s) still use tag "${tag}" (${plan.namespaces.join(', ')}): their new pods would start without a sidecar; relabel them, or pass --skip-confirmation`,
      {
        details: plan.namespaces.map((ns) => ({
          field: 'namespace',
          value: ns,
          reason: `labelled ${KEY.rev}=${tag}`,
        })),
      },
    );
  }
  for (const name of plan.deletes) {
    if (opts.dryRun) io.stdout(`would delete MutatingWebhookConfiguration ${name}\n`);
    else await cluster.remove(name);
  }
  if (!opts.dryRun) io.stdout(`Revision tag "${tag}" removed (${plan.deletes.join(', ')}).\n`);
  return EXIT.OK;
}

/** The command wired to the cluster (loaded on demand, so offline builds need no client). */
export const runTag: CliCommand = async (argv, io) => {
  const { connectTagCluster } = await import('../k8s/tag-client.js');
  return createTagCommand(connectTagCluster)(argv, io);
};

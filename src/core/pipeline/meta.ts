/**
 * Who the pod belongs to (Istio's deployment meta and type meta) and which UID/GID the proxy
 * runs as. The owner is derived from the controller ownerReference the way Kubernetes
 * controllers name their pods (ReplicaSet `<deployment>-<pod-template-hash>`, CronJob Jobs
 * `<cronjob>-<scheduled time>`).
 */
import type { JsonObject } from '../json.js';
import { isJsonObject } from '../json.js';
import type { Container, Pod, StringMap } from '../pod-types.js';
import { INIT_CONTAINER, PROXY_CONTAINER, VALIDATION_CONTAINER } from './containers.js';

export interface TypeMeta {
  kind: string;
  apiVersion: string;
}

export interface DeploymentMeta {
  name: string;
  namespace: string;
}

export interface WorkloadMeta {
  typeMeta: TypeMeta;
  deploymentMeta: DeploymentMeta;
}

const CRONJOB_SUFFIX = /^(.*)-\d{8,10}$/;

/** A workload as Istio's deployment meta names it: its type and name. */
interface NamedWorkload {
  typeMeta: TypeMeta;
  name: string;
}

/** The workload above `owner`, when this rule recognises the owner's name; else undefined. */
type OwnerRule = (owner: NamedWorkload, labels: StringMap) => NamedWorkload | undefined;

/** `name` without the suffix `-<suffix>`, or undefined when it does not end so. */
function withoutSuffix(name: string, suffix: string | undefined): string | undefined {
  if (suffix === undefined || !name.endsWith(`-${suffix}`)) return undefined;
  return name.slice(0, -(suffix.length + 1));
}

function replicaSetOf(hashLabel: string, kind: string, apiVersion?: string): OwnerRule {
  return (owner, labels) => {
    if (owner.typeMeta.kind !== 'ReplicaSet') return undefined;
    const name = withoutSuffix(owner.name, labels[hashLabel]);
    if (name === undefined) return undefined;
    return { typeMeta: { kind, apiVersion: apiVersion ?? owner.typeMeta.apiVersion }, name };
  };
}

/** Tried in order; the first that answers names the workload, else the owner itself does. */
const OWNER_RULES: readonly OwnerRule[] = [
  replicaSetOf('pod-template-hash', 'Deployment'),
  // Argo Rollouts name their ReplicaSets the same way, with their own hash label.
  replicaSetOf('rollouts-pod-template-hash', 'Rollout', 'v1alpha1'),
  (owner, labels) =>
    owner.typeMeta.kind === 'ReplicationController' && labels.deploymentconfig !== undefined
      ? {
          typeMeta: { kind: 'DeploymentConfig', apiVersion: owner.typeMeta.apiVersion },
          name: labels.deploymentconfig,
        }
      : undefined,
  (owner) => {
    if (owner.typeMeta.kind !== 'Job') return undefined;
    const m = CRONJOB_SUFFIX.exec(owner.name);
    return m
      ? { typeMeta: { kind: 'CronJob', apiVersion: 'batch/v1' }, name: m[1] ?? '' }
      : undefined;
  },
];

function workloadAbove(owner: NamedWorkload, labels: StringMap): NamedWorkload {
  for (const rule of OWNER_RULES) {
    const found = rule(owner, labels);
    if (found !== undefined) return found;
  }
  return owner;
}

/** Deployment and type meta of a pod received by the webhook. */
export function workloadMetaFromPod(pod: Pod, namespace: string): WorkloadMeta {
  const meta = pod.metadata ?? {};
  const podName = meta.name ?? '';
  let workload: NamedWorkload = { typeMeta: { kind: 'Pod', apiVersion: 'v1' }, name: podName };
  const owner = (meta.ownerReferences ?? []).find((r) => r.controller === true);
  if ((meta.generateName ?? '') !== '' && owner) {
    const direct: NamedWorkload = {
      typeMeta: { kind: owner.kind ?? '', apiVersion: owner.apiVersion ?? '' },
      name: owner.name ?? '',
    };
    workload = workloadAbove(direct, meta.labels ?? {});
  }
  const name = workload.name === '' ? podName : workload.name;
  return { typeMeta: workload.typeMeta, deploymentMeta: { name, namespace } };
}

export const DEFAULT_PROXY_UID = 1337;
export const DEFAULT_PROXY_GID = 1337;
const UID_RANGE = 'openshift.io/sa.scc.uid-range';
const SUPPLEMENTAL_GROUPS = 'openshift.io/sa.scc.supplemental-groups';

/**
 * The API server accepts a runAsUser / runAsGroup of 0..2147483647 only (apimachinery's
 * IsValidUserID and IsValidGroupID, used by ValidateSecurityContext), although the fields are int64.
 */
const MAX_ID = 2_147_483_647;

/**
 * Last ID of an OpenShift range annotation block: `start/size` -> start+size-1, `start-end` -> end;
 * undefined when the block is not a range, or is empty (`start/0`).
 */
function rangeEnd(block: string): number | undefined {
  const slash = /^(\d+)\/(\d+)$/.exec(block.trim());
  if (slash) return Number(slash[2]) === 0 ? undefined : Number(slash[1]) + Number(slash[2]) - 1;
  const dash = /^(\d+)-(\d+)$/.exec(block.trim());
  if (dash) return Number(dash[2]);
  return undefined;
}

/** The last ID of an annotation's first block, when it is one Kubernetes accepts. */
function idFrom(
  annotation: string,
  text: string | undefined,
  warnings: string[],
): number | undefined {
  if (text === undefined) return undefined;
  const end = rangeEnd(text.split(',')[0] ?? '');
  if (end !== undefined && end > MAX_ID) {
    warnings.push(
      `namespace annotation ${annotation} ${JSON.stringify(text.slice(0, 60))} ends at ID ${end}, past the ${MAX_ID} Kubernetes accepts for runAsUser/runAsGroup; not used`,
    );
    return undefined;
  }
  return end;
}

/**
 * Proxy UID/GID: 1337/1337, or on OpenShift the last ID of the namespace's SCC ranges
 * (https://docs.openshift.com/container-platform/latest/authentication/managing-security-context-constraints.html).
 * A range ending past what the API server accepts is not used (with a warning), as an unparseable
 * one is not: the pod would otherwise be refused at validation. The warning goes to `warnings`.
 */
export function proxyIds(
  openshift: boolean,
  namespaceAnnotations: StringMap | undefined,
  warnings: string[] = [],
): { uid: number; gid: number } {
  if (!openshift || !namespaceAnnotations)
    return { uid: DEFAULT_PROXY_UID, gid: DEFAULT_PROXY_GID };
  const uidRange = namespaceAnnotations[UID_RANGE];
  const uid = idFrom(UID_RANGE, uidRange, warnings);
  // Without a supplemental-groups annotation the GID comes from the UID range too.
  const groups = namespaceAnnotations[SUPPLEMENTAL_GROUPS];
  const gid = groups === undefined ? uid : idFrom(SUPPLEMENTAL_GROUPS, groups, warnings);
  return { uid: uid ?? DEFAULT_PROXY_UID, gid: gid ?? uid ?? DEFAULT_PROXY_GID };
}

/**
 * OpenShift assigns every container of a pod the same UID; a user `istio-proxy` carrying the
 * application's runAsUser did not choose it, so its runAsUser and runAsGroup are dropped before
 * injection. The comparison is istiod's (webhook.go isSidecarUserMatchingAppUser): the UID of the
 * last `istio-proxy` and of the last application container that sets one (containers, then init
 * containers, the istio-init/istio-validation ones left out), each 0 when none sets it; on a
 * match the first `istio-proxy` (containers before init containers) loses both, when it has a
 * securityContext at all.
 */
export function dropOpenshiftAssignedIds(pod: Pod): void {
  const spec = pod.spec;
  if (!spec) return;
  let sidecarUser = 0;
  let appUser = 0;
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? [])]) {
    const sc = c.securityContext;
    if (!isJsonObject(sc) || typeof sc.runAsUser !== 'number') continue;
    if (c.name === PROXY_CONTAINER) sidecarUser = sc.runAsUser;
    else if (c.name !== INIT_CONTAINER && c.name !== VALIDATION_CONTAINER) appUser = sc.runAsUser;
  }
  if (sidecarUser !== appUser) return;
  for (const key of ['containers', 'initContainers'] as const) {
    const list = spec[key];
    const index = list?.findIndex((c: Container) => c.name === PROXY_CONTAINER) ?? -1;
    if (!list || index < 0) continue;
    const sidecar = list[index] as Container;
    const sc = sidecar.securityContext;
    if (!isJsonObject(sc)) return;
    const rest: JsonObject = { ...sc };
    delete rest.runAsUser;
    delete rest.runAsGroup;
    spec[key] = list.map((c: Container, i: number) =>
      i === index ? { ...sidecar, securityContext: rest } : c,
    );
    return;
  }
}

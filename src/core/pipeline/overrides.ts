/**
 * User customisation of injected containers (Istio's "customizing injection",
 * https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/#customizing-injection):
 * a pod container named like an injected one (usually `istio-proxy`) is merged over the injected
 * container, user fields winning. The overrides are recorded in `KEY.overrides` so a
 * later re-injection can re-apply them after the injected containers were stripped.
 */
import { invalidAnnotationError } from '../annotations/validate.js';
import type { JsonObject, JsonValue } from '../json.js';
import { isJsonObject } from '../json.js';
import type { Container, Pod } from '../pod-types.js';
import {
  findContainer,
  PROXY_CONTAINER,
  INIT_CONTAINER,
  VALIDATION_CONTAINER,
} from './containers.js';
import { containerJson, typedContainer } from './container-json.js';
import { POD_SCHEMA, strategicMerge } from './smp.js';
import type { InjectionStatus } from './status.js';
import { KEY } from '../annotations/keys.js';

const AUTO_IMAGE = 'auto';

export interface ParsedContainers {
  containers: Container[];
  initContainers: Container[];
}

function containerList(value: JsonValue | undefined): Container[] {
  if (!Array.isArray(value)) return [];
  return value.filter((c): c is Container => isJsonObject(c) && typeof c.name === 'string');
}

/** Parses `KEY.overrides`; a value that is not JSON is an invalid annotation. */
export function parseOverrides(text: string | undefined): ParsedContainers {
  if (text === undefined) return { containers: [], initContainers: [] };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw invalidAnnotationError(KEY.overrides, text, reason);
  }
  const obj = isJsonObject(parsed) ? parsed : {};
  return {
    containers: containerList(obj.containers),
    initContainers: containerList(obj.initContainers),
  };
}

/** Re-inserts recorded overrides missing from the (stripped) pod, at the end of each list. */
export function reinsertOverrides(pod: Pod, overrides: ParsedContainers): Pod {
  if (overrides.containers.length === 0 && overrides.initContainers.length === 0) return pod;
  const spec = { ...(pod.spec ?? {}) };
  const add = (list: Container[] | undefined, extra: Container[]): Container[] | undefined => {
    const missing = extra.filter((c) => !findContainer(list, c.name));
    return missing.length === 0 ? list : [...(list ?? []), ...structuredClone(missing)];
  };
  const containers = add(spec.containers, overrides.containers);
  const initContainers = add(spec.initContainers, overrides.initContainers);
  if (containers) spec.containers = containers;
  if (initContainers) spec.initContainers = initContainers;
  return { ...pod, spec };
}

/**
 * The user's container as istiod merges it: decoded into a typed corev1.Container and encoded
 * again, so zero values of `omitempty` fields (an empty env value, a probe counter of 0) are gone
 * before the strategic merge and leave the injected value in place (webhook.go,
 * reapplyOverwrittenContainers marshals the typed overlay).
 */
function overlayOf(match: Container): Container {
  const overlay = typedContainer(structuredClone(match)) as Container;
  if (overlay.image === AUTO_IMAGE) delete overlay.image;
  return overlay;
}

export interface OverrideInputs {
  merged: Pod;
  /** The pod as received (unstripped). */
  original: Pod;
  templatePod: Pod;
  status: InjectionStatus | undefined;
  existing: ParsedContainers;
}

type ContainerList = keyof ParsedContainers;

/**
 * Where the user's version of an injected container is looked up, after the recorded overrides
 * of the same list: an injected init container may be overridden from either pod list.
 */
const OVERRIDE_SOURCES: Readonly<Record<ContainerList, readonly ContainerList[]>> = {
  containers: ['containers'],
  initContainers: ['containers', 'initContainers'],
};

function userContainer(
  list: ContainerList,
  name: string,
  inputs: OverrideInputs,
): Container | undefined {
  const recorded = findContainer(inputs.existing[list], name);
  if (recorded) return recorded;
  for (const source of OVERRIDE_SOURCES[list]) {
    const found = findContainer(inputs.original.spec?.[source], name);
    if (found) return found;
  }
  return undefined;
}

/** Merges the user's containers over the injected ones of `list`, noting each in `applied`. */
function mergeUserContainers(
  list: ContainerList,
  merged: Pod,
  inputs: OverrideInputs,
  applied: ParsedContainers,
): Pod {
  let out = merged;
  for (const c of inputs.templatePod.spec?.[list] ?? []) {
    if (inputs.status?.[list].includes(c.name)) continue;
    const match = userContainer(list, c.name, inputs);
    if (!match) continue;
    const overlay = overlayOf(match);
    applied[list].push(overlay);
    out = strategicMerge(out, { spec: { [list]: [overlay] } }, POD_SCHEMA) as Pod;
  }
  return out;
}

/** `merged` with the applied overrides recorded in the overrides annotation. */
function recordOverrides(merged: Pod, applied: ParsedContainers): Pod {
  const record: JsonObject = {};
  if (applied.containers.length > 0) record.containers = applied.containers.map(containerJson);
  if (applied.initContainers.length > 0)
    record.initContainers = applied.initContainers.map(containerJson);
  const meta = { ...(merged.metadata ?? {}) };
  meta.annotations = {
    ...(meta.annotations ?? {}),
    [KEY.overrides]: JSON.stringify(record),
  };
  return { ...merged, metadata: meta };
}

/**
 * Merges user containers over the injected ones of the same name and, on a first injection,
 * records them in the overrides annotation. Returns the new merged pod.
 */
export function reapplyOverrides(inputs: OverrideInputs): Pod {
  const applied: ParsedContainers = { containers: [], initContainers: [] };
  let merged = mergeUserContainers('containers', inputs.merged, inputs, applied);
  merged = mergeUserContainers('initContainers', merged, inputs, applied);

  // Istio records the overrides only for a pod without a status annotation at all: one whose
  // status is not valid JSON counts as already injected too (webhook.go,
  // reapplyOverwrittenContainers).
  const annotations = inputs.original.metadata?.annotations;
  const alreadyInjected = annotations !== undefined && Object.hasOwn(annotations, KEY.status);
  if (alreadyInjected || (applied.containers.length === 0 && applied.initContainers.length === 0)) {
    return merged;
  }
  return recordOverrides(merged, applied);
}

function runAs(c: Container | undefined): { user?: number; group?: number } {
  const sc = c?.securityContext;
  if (!isJsonObject(sc)) return {};
  const out: { user?: number; group?: number } = {};
  if (typeof sc.runAsUser === 'number') out.user = sc.runAsUser;
  if (typeof sc.runAsGroup === 'number') out.group = sc.runAsGroup;
  return out;
}

/**
 * When the user's `istio-proxy` sets runAsUser/runAsGroup, keeps the iptables setup consistent:
 * TPROXY forces the proxy back to uid 0, CNI validation runs as the user's ids, and the `-u`
 * argument of the init container becomes the user's uid.
 */
export function adjustInitContainerUser(merged: Pod, original: Pod, tproxy: boolean): void {
  const userProxy =
    findContainer(original.spec?.containers, PROXY_CONTAINER) ??
    findContainer(original.spec?.initContainers, PROXY_CONTAINER);
  const user = runAs(userProxy);
  if (user.user === undefined && user.group === undefined) return;
  const spec = merged.spec;
  if (!spec) return;

  // Istio adjusts one init container: the first named istio-init, else the first named
  // istio-validation (webhook.go adjustInitContainerUser); a user's own istio-init is the one.
  const initList = spec.initContainers ?? [];
  const initIndex = [INIT_CONTAINER, VALIDATION_CONTAINER]
    .map((name) => initList.findIndex((c) => c.name === name))
    .find((i) => i >= 0);
  if (initIndex === undefined) return;

  if (tproxy && user.user !== undefined) {
    // The first istio-proxy, containers before init containers (FindSidecar).
    const inContainers = (spec.containers ?? []).findIndex((c) => c.name === PROXY_CONTAINER);
    const key = inContainers >= 0 ? 'containers' : 'initContainers';
    const list = spec[key] ?? [];
    const at = inContainers >= 0 ? inContainers : list.findIndex((c) => c.name === PROXY_CONTAINER);
    const proxy = list[at];
    if (proxy) {
      const updated = [...list];
      updated[at] = {
        ...proxy,
        securityContext: { ...(proxy.securityContext ?? {}), runAsUser: 0 },
      };
      spec[key] = updated;
    }
  }

  spec.initContainers = (spec.initContainers ?? []).map((c, i) => {
    if (i !== initIndex) return c;
    let out = c;
    if (!tproxy && c.name === VALIDATION_CONTAINER) {
      const sc: JsonObject = { ...(c.securityContext ?? {}) };
      if (user.user !== undefined) sc.runAsUser = user.user;
      if (user.group !== undefined) sc.runAsGroup = user.group;
      out = { ...out, securityContext: sc };
    }
    if (user.user !== undefined && user.user !== 0 && Array.isArray(out.args)) {
      const args = [...out.args];
      const at = args.indexOf('-u');
      if (at >= 0 && at + 1 < args.length) {
        args[at + 1] = String(user.user);
        out = { ...out, args };
      }
    }
    return out;
  });
}

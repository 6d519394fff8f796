/**
 * The steps after the templates and overrides: cluster/network env, metadata (status annotation,
 * network label, configured annotations) and container ordering.
 */
import type { Container, EnvVar, Pod, StringMap } from '../pod-types.js';
import {
  CORE_DUMP_CONTAINER,
  findContainer,
  findSidecar,
  INIT_CONTAINER,
  moveContainer,
  PROXY_CONTAINER,
  VALIDATION_CONTAINER,
} from './containers.js';
import { LABEL } from '../annotations/keys.js';

export const CLUSTER_ENV = 'ISTIO_META_CLUSTER_ID';
export const NETWORK_ENV = 'ISTIO_META_NETWORK';
export const NETWORK_LABEL = LABEL.network;

/**
 * Moves the env entries named in `envs` to the end of the proxy env, sorted by name, as plain
 * values (URL parameters and the effective cluster/network win over the template).
 */
export function overwriteClusterEnv(pod: Pod, envs: StringMap): void {
  const names = Object.keys(envs).sort();
  if (names.length === 0) return;
  const sidecar = findSidecar(pod);
  if (!sidecar) return;
  const kept = (sidecar.env ?? []).filter((e) => !Object.hasOwn(envs, e.name));
  const added: EnvVar[] = names.map((name) => ({ name, value: envs[name] ?? '' }));
  sidecar.env = [...kept, ...added];
}

/** Pod-level proxy ordering: proxy first (hold) or last in containers; init order by mode. */
export function reorderContainers(pod: Pod, hold: boolean): void {
  const spec = pod.spec;
  if (!spec) return;
  if (spec.containers)
    spec.containers = moveContainer(spec.containers, PROXY_CONTAINER, hold ? 'first' : 'last');
  if (!spec.initContainers) return;
  let init: Container[] = spec.initContainers;
  if (findContainer(init, PROXY_CONTAINER)) {
    // Native sidecar: iptables setup, then the proxy, so later init containers are in the mesh.
    for (const name of [
      CORE_DUMP_CONTAINER,
      PROXY_CONTAINER,
      VALIDATION_CONTAINER,
      INIT_CONTAINER,
    ]) {
      init = moveContainer(init, name, 'first');
    }
  } else {
    // Classic: iptables last so the other init containers are not captured.
    init = moveContainer(init, INIT_CONTAINER, 'last');
    init = moveContainer(init, VALIDATION_CONTAINER, 'first');
    init = moveContainer(init, CORE_DUMP_CONTAINER, 'last');
  }
  spec.initContainers = init;
}

/** Well-known container names and small lookups over pod container lists. */
import type { Container, Pod } from '../pod-types.js';

export const PROXY_CONTAINER = 'istio-proxy';
export const INIT_CONTAINER = 'istio-init';
export const VALIDATION_CONTAINER = 'istio-validation';
export const CORE_DUMP_CONTAINER = 'enable-core-dump';

export function findContainer(
  list: readonly Container[] | undefined,
  name: string,
): Container | undefined {
  return list?.find((c) => c.name === name);
}

/** The `istio-proxy` container, in `containers` or (native sidecar) in `initContainers`. */
export function findSidecar(pod: Pod): Container | undefined {
  return (
    findContainer(pod.spec?.containers, PROXY_CONTAINER) ??
    findContainer(pod.spec?.initContainers, PROXY_CONTAINER)
  );
}

export type Placement = 'first' | 'last';

/** Returns `list` with the container `name` (if present) moved to the front or the back. */
export function moveContainer(list: Container[], name: string, where: Placement): Container[] {
  const index = list.findIndex((c) => c.name === name);
  if (index < 0) return list;
  const item = list[index] as Container;
  const rest = [...list.slice(0, index), ...list.slice(index + 1)];
  return where === 'first' ? [item, ...rest] : [...rest, item];
}

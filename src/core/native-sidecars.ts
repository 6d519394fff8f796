/**
 * Native sidecar decision (spec §2.4): whether `istio-proxy` runs as a Kubernetes native sidecar
 * (an init container with `restartPolicy: Always`, available from Kubernetes 1.33 on every node).
 * https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/
 */
import type { StringMap } from './pod-types.js';
import { KEY } from './annotations/keys.js';

export type NativeSidecarMode = 'auto' | 'enabled' | 'disabled';

/** First Kubernetes minor release whose kubelets run native sidecars as Istio requires. */
const MIN_KUBELET_MINOR = 33;

export interface NodeVersion {
  readonly name: string;
  readonly kubeletVersion?: string | undefined;
}

/**
 * Maps istiod's `ENABLE_NATIVE_SIDECARS` setting (`true`, `false`, `auto`, unset = auto) to a mode.
 * Any other value is off, with a warning naming it.
 */
export function nativeSidecarModeFromSetting(setting: string | undefined): {
  mode: NativeSidecarMode;
  warning?: string;
} {
  if (setting === undefined || setting === '' || setting === 'auto') return { mode: 'auto' };
  if (setting === 'true') return { mode: 'enabled' };
  if (setting === 'false') return { mode: 'disabled' };
  return {
    mode: 'disabled',
    warning: `ENABLE_NATIVE_SIDECARS=${JSON.stringify(setting.slice(0, 40))} is not true, false or auto; native sidecars are off`,
  };
}

/** The minor version of a kubelet version string (`v1.33.2-eks-1`), or undefined. */
export function kubeletMinor(version: string): number | undefined {
  const match = /^v?(\d+)\.(\d+)(?:[.+-]|$)/.exec(version.trim());
  return match ? Number(match[2]) : undefined;
}

function supportsNative(node: NodeVersion): boolean {
  const minor = kubeletMinor(node.kubeletVersion ?? '');
  // Only the minor component counts, as in Istio (the major has been 1 for every release).
  return minor !== undefined && minor >= MIN_KUBELET_MINOR;
}

/**
 * Global decision. `auto`: when the pod is already bound to a known node only that node counts;
 * otherwise every node must run a kubelet >= 1.33. No known node at all means off.
 */
export function detectNativeSidecars(
  mode: NativeSidecarMode,
  nodes: readonly NodeVersion[],
  podNodeName?: string,
): boolean {
  if (mode === 'enabled') return true;
  if (mode === 'disabled') return false;
  if (podNodeName !== undefined && podNodeName !== '') {
    const node = nodes.find((n) => n.name === podNodeName);
    if (node !== undefined) return supportsNative(node);
  }
  return nodes.length > 0 && nodes.every(supportsNative);
}

/** Per-pod override: annotation `"true"` forces native, `"false"` forces classic, else the global decision. */
export function nativeSidecarsForPod(global: boolean, annotations: StringMap | undefined): boolean {
  const value = annotations?.[KEY.nativeSidecar];
  if (value === 'true') return true;
  if (value === 'false') return false;
  return global;
}

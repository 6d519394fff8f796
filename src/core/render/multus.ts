/**
 * Multus network attachment for the Istio CNI plugin: the pod annotation
 * `k8s.v1.cni.cncf.io/networks` is either a comma list (`ns/name, other`) or a JSON array of
 * `{"name", "namespace"}` objects. See https://github.com/k8snetworkplumbingwg/multus-cni/blob/master/docs/how-to-use.md
 */
import { isJsonObject } from '../json.js';

export const ANNOTATION_MULTUS_NETWORKS = 'k8s.v1.cni.cncf.io/networks';

/**
 * Appends `network` (`name` or `namespace/name`) to an existing networks annotation value,
 * unless it is already listed. The original text is kept byte for byte: the JSON form gets the
 * new element inserted before its last `]`, the list form gets `, <network>` appended.
 * Unparseable JSON is returned unchanged (Multus will report it, not the injector).
 */
export function appendMultusNetwork(existing: string, network: string): string {
  if (existing === '') return network;
  const slash = network.indexOf('/');
  const namespace = slash === -1 ? '' : network.slice(0, slash);
  const name = slash === -1 ? network : network.slice(slash + 1);

  const lastBracket = existing.lastIndexOf(']');
  if (lastBracket === -1) {
    for (const element of existing.split(',')) {
      if (element.trim() === network) return existing;
    }
    return `${existing}, ${network}`;
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(existing);
  } catch {
    return existing;
  }
  if (!Array.isArray(parsed) || !parsed.every(isJsonObject)) return existing;
  for (const element of parsed) {
    const elementNamespace = typeof element.namespace === 'string' ? element.namespace : '';
    if (element.name === name && elementNamespace === namespace) return existing;
  }
  const entry =
    namespace === ''
      ? `{"name": ${JSON.stringify(name)}}`
      : `{"name": ${JSON.stringify(name)}, "namespace": ${JSON.stringify(namespace)}}`;
  // An empty array gets the entry alone, so the result stays valid JSON.
  const separator = parsed.length === 0 ? '' : ', ';
  return `${existing.slice(0, lastBracket)}${separator}${entry}${existing.slice(lastBracket)}`;
}

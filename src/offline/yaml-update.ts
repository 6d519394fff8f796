/**
 * Writing a changed value back into its parsed YAML document so that what did not change keeps
 * its comments, key order and scalar style. Only the nodes whose value differs are replaced.
 */
import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import { isJsonObject, type JsonValue } from '../core/json.js';

/** Updates `doc` in place so that `doc.toJS()` equals `value`. */
export function updateDocument(doc: Document, value: JsonValue): void {
  doc.contents = reconcile(doc, doc.contents, value);
}

function reconcile(doc: Document, node: unknown, value: JsonValue): Node {
  if (isMap(node) && isJsonObject(value)) return reconcileMap(doc, node, value);
  if (isSeq(node) && Array.isArray(value)) {
    const items = node.items;
    const used = new Set<unknown>();
    const byName = new Map<string, unknown>();
    for (const item of items) {
      const name = isMap(item) ? item.get('name') : undefined;
      if (typeof name === 'string' && !byName.has(name)) byName.set(name, item);
    }
    node.items = value.map((element, i) => {
      // Named elements (containers, volumes, env) follow their name when the injector moves them.
      const name = isJsonObject(element) ? element.name : undefined;
      let match: unknown = typeof name === 'string' ? byName.get(name) : undefined;
      if (match === undefined && !used.has(items[i])) {
        const candidate = items[i];
        const candidateName = isMap(candidate) ? candidate.get('name') : undefined;
        if (typeof candidateName !== 'string' || candidateName === name) match = candidate;
      }
      if (match === undefined || used.has(match)) return doc.createNode(element);
      used.add(match);
      return reconcile(doc, match, element);
    });
    return node;
  }
  if (isScalar(node) && !isCollectionValue(value) && node.value === value) return node;
  return doc.createNode(value);
}

function reconcileMap(
  doc: Document,
  node: YAMLMap,
  value: Record<string, JsonValue | undefined>,
): Node {
  const wanted = new Set(Object.keys(value).filter((k) => value[k] !== undefined));
  node.items = node.items.filter((pair) => wanted.has(keyOf(pair)));
  const pairs = new Map(node.items.map((pair) => [keyOf(pair), pair]));
  for (const [key, v] of Object.entries(value)) {
    if (v === undefined) continue;
    const pair = pairs.get(key);
    if (pair === undefined) node.items.push(doc.createPair(key, v));
    else pair.value = reconcile(doc, pair.value, v);
  }
  return node;
}

function keyOf(pair: Pair<unknown, unknown>): string {
  const key = pair.key;
  return isScalar(key) ? String(key.value) : String(key);
}

function isCollectionValue(value: JsonValue): boolean {
  return typeof value === 'object' && value !== null;
}

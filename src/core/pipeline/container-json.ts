/**
 * Kubernetes JSON as the Go API types print it: fields in struct declaration order, unknown
 * fields dropped, zero values of non-pointer `omitempty` fields omitted, map keys sorted and
 * quantities canonical (https://github.com/kubernetes/api/blob/master/core/v1/types.go).
 * Used where Istio writes JSON text that the goldens compare byte for byte
 * (`KEY.overrides`, `ISTIO_KUBE_APP_PROBERS`).
 */
import type { JsonObject, JsonValue } from '../json.js';
import { isJsonObject, sortedObject } from '../json.js';
import { canonicalQuantityValue } from '../quantity.js';
import { K8S_STRUCTS, k8sFields, type K8sField } from '../k8s-structs.js';

/**
 * One field as `orderedJson` walks it: JSON name, the type of its value (a key of TYPES, `[]T` for
 * a list, `{}` for a sorted string map, `Q{}` for a quantity map, `Q` for a quantity), whether a
 * zero value is omitted (`omitempty` on a non-pointer scalar) or, for a field without
 * `omitempty`, the zero value Go prints when it is absent (`null` for a nil pointer), and whether
 * the field is a struct value (Go prints it even when empty).
 */
interface Field {
  readonly name: string;
  readonly type: string | undefined;
  readonly omitZero: boolean | Always;
  readonly structValue: boolean;
}

/** A field without `omitempty`: Go prints it even when unset, as `zero`. */
interface Always {
  zero: JsonValue;
}

const SCALAR_ZERO: Readonly<Record<string, JsonValue>> = { s: '', i: 0, b: false };

function field([name, shape, omitempty]: K8sField): Field {
  const scalar = Object.hasOwn(SCALAR_ZERO, shape);
  let type: string | undefined;
  if (shape === '[]s') type = '[]';
  else if (shape.startsWith('[]') || shape === '{}' || shape === 'Q{}' || shape === 'Q')
    type = shape;
  else if (!scalar && shape !== '*s' && shape !== '*i' && shape !== '*b')
    type = shape.replace(/^\*/, '');
  const omitZero: boolean | Always = omitempty
    ? scalar
    : { zero: scalar ? (SCALAR_ZERO[shape] ?? null) : null };
  const structValue =
    type !== undefined && !shape.startsWith('*') && Object.hasOwn(K8S_STRUCTS, type);
  return { name, type, omitZero, structValue };
}

/** Istio's agent-side prober (Prober in pilot/cmd/pilot-agent/status). */
const PROBER = k8sFields(
  'Prober',
  'httpGet:*HTTPGetAction? tcpSocket:*TCPSocketAction? grpc:*GRPCAction? timeoutSeconds:i?',
);

const TYPES: ReadonlyMap<string, readonly Field[]> = new Map(
  [...Object.entries(K8S_STRUCTS), ['Prober', PROBER] as const].map(([t, fields]) => [
    t,
    fields.map(field),
  ]),
);

function isZero(value: JsonValue): boolean {
  return value === '' || value === 0 || value === false || value === null;
}

function sortedMap(value: JsonValue, quantity: boolean): JsonValue {
  if (!isJsonObject(value)) return value;
  return quantity ? sortedObject(value, canonicalQuantityValue) : sortedObject(value);
}

function convert(type: string | undefined, value: JsonValue, fill: boolean): JsonValue {
  if (type === undefined) return value;
  if (type.startsWith('[]')) {
    const elem = type.slice(2);
    return Array.isArray(value)
      ? value.map((v) => convert(elem === '' ? undefined : elem, v, fill))
      : value;
  }
  if (type === '{}') return sortedMap(value, false);
  if (type === 'Q{}') return sortedMap(value, true);
  if (type === 'Q') return canonicalQuantityValue(value);
  return orderedJson(type, value, fill);
}

/**
 * Returns `value` re-keyed in the Go field order of `type` (see TYPES). With `fill` false, a field
 * without `omitempty` that is unset or null stays absent instead of printing its zero value.
 */
export function orderedJson(type: string, value: JsonValue, fill = true): JsonValue {
  const fields = TYPES.get(type);
  if (!fields || !isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const { name, type: fieldType, omitZero, structValue } of fields) {
    const v = value[name];
    if (v === undefined || v === null) {
      if (!fill) continue;
      if (typeof omitZero === 'object') out[name] = omitZero.zero;
      // A struct value (not a pointer) is never empty to encoding/json: `resources` prints {}.
      else if (structValue) out[name] = {};
      continue;
    }
    if (omitZero === true && isZero(v)) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    // omitempty drops an empty map too (ResourceList requests/limits: `requests: {}` vanishes).
    if (
      (fieldType === '{}' || fieldType === 'Q{}') &&
      isJsonObject(v) &&
      Object.keys(v).length === 0
    )
      continue;
    out[name] = convert(fieldType, v, fill);
  }
  return out;
}

/** JSON text of one Kubernetes container, as Go prints it. */
export function containerJson(container: JsonValue): JsonValue {
  return orderedJson('Container', container);
}

/**
 * A container as a merge sees istiod's typed one: zero values of `omitempty` fields gone, but no
 * zero invented for an unset or null field (a null probe port, never in a request the API server
 * sends, stays absent rather than becoming port 0).
 */
export function typedContainer(container: JsonValue): JsonValue {
  return orderedJson('Container', container, false);
}

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

/**
 * One field: name, the type of its value (a key of TYPES, `[]T` for a list, `{}` for a sorted
 * string map, `Q{}` for a quantity map) and whether a zero value is omitted (`omitempty` on a
 * non-pointer field), or, for a field without `omitempty`, the zero value Go prints when it is
 * absent (`null` for a nil pointer).
 */
type Field = readonly [name: string, type?: string, omitZero?: boolean | Always];

/** A field without `omitempty`: Go prints it even when unset, as `zero`. */
interface Always {
  zero: JsonValue;
}

const Z = true;
const NO_OMIT_STRING: Always = { zero: '' };
const NO_OMIT_INT: Always = { zero: 0 };
const NO_OMIT_POINTER: Always = { zero: null };
const TYPES: Record<string, readonly Field[]> = {
  Container: [
    ['name', undefined, NO_OMIT_STRING],
    ['image', undefined, Z],
    ['command', '[]'],
    ['args', '[]'],
    ['workingDir', undefined, Z],
    ['ports', '[]ContainerPort'],
    ['envFrom', '[]EnvFromSource'],
    ['env', '[]EnvVar'],
    ['resources', 'ResourceRequirements'],
    ['resizePolicy', '[]ResizePolicy'],
    ['restartPolicy'],
    ['restartPolicyRules', '[]'],
    ['volumeMounts', '[]VolumeMount'],
    ['volumeDevices', '[]VolumeDevice'],
    ['livenessProbe', 'Probe'],
    ['readinessProbe', 'Probe'],
    ['startupProbe', 'Probe'],
    ['lifecycle', 'Lifecycle'],
    ['terminationMessagePath', undefined, Z],
    ['terminationMessagePolicy', undefined, Z],
    ['imagePullPolicy', undefined, Z],
    ['securityContext', 'SecurityContext'],
    ['stdin', undefined, Z],
    ['stdinOnce', undefined, Z],
    ['tty', undefined, Z],
  ],
  ContainerPort: [
    ['name', undefined, Z],
    ['hostPort', undefined, Z],
    ['containerPort', undefined, NO_OMIT_INT],
    ['protocol', undefined, Z],
    ['hostIP', undefined, Z],
  ],
  EnvFromSource: [['prefix', undefined, Z], ['configMapRef'], ['secretRef']],
  EnvVar: [
    ['name', undefined, NO_OMIT_STRING],
    ['value', undefined, Z],
    ['valueFrom', 'EnvVarSource'],
  ],
  EnvVarSource: [
    ['fieldRef', 'ObjectFieldSelector'],
    ['resourceFieldRef', 'ResourceFieldSelector'],
    ['configMapKeyRef'],
    ['secretKeyRef'],
    ['fileKeyRef'],
  ],
  ObjectFieldSelector: [
    ['apiVersion', undefined, Z],
    ['fieldPath', undefined, NO_OMIT_STRING],
  ],
  ResourceFieldSelector: [
    ['containerName', undefined, Z],
    ['resource', undefined, NO_OMIT_STRING],
    ['divisor', 'Q'],
  ],
  ResourceRequirements: [
    ['limits', 'Q{}'],
    ['requests', 'Q{}'],
    ['claims', '[]'],
  ],
  ResizePolicy: [
    ['resourceName', undefined, NO_OMIT_STRING],
    ['restartPolicy', undefined, NO_OMIT_STRING],
  ],
  VolumeMount: [
    ['name', undefined, NO_OMIT_STRING],
    ['readOnly', undefined, Z],
    ['recursiveReadOnly'],
    ['mountPath', undefined, NO_OMIT_STRING],
    ['subPath', undefined, Z],
    ['mountPropagation'],
    ['subPathExpr', undefined, Z],
  ],
  VolumeDevice: [
    ['name', undefined, NO_OMIT_STRING],
    ['devicePath', undefined, NO_OMIT_STRING],
  ],
  Probe: [
    ['exec', 'ExecAction'],
    ['httpGet', 'HTTPGetAction'],
    ['tcpSocket', 'TCPSocketAction'],
    ['grpc', 'GRPCAction'],
    ['initialDelaySeconds', undefined, Z],
    ['timeoutSeconds', undefined, Z],
    ['periodSeconds', undefined, Z],
    ['successThreshold', undefined, Z],
    ['failureThreshold', undefined, Z],
    ['terminationGracePeriodSeconds'],
  ],
  Lifecycle: [['postStart', 'LifecycleHandler'], ['preStop', 'LifecycleHandler'], ['stopSignal']],
  LifecycleHandler: [
    ['exec', 'ExecAction'],
    ['httpGet', 'HTTPGetAction'],
    ['tcpSocket', 'TCPSocketAction'],
    ['sleep'],
  ],
  ExecAction: [['command', '[]']],
  HTTPGetAction: [
    ['path', undefined, Z],
    ['port', undefined, NO_OMIT_INT],
    ['host', undefined, Z],
    ['scheme', undefined, Z],
    ['httpHeaders', '[]HTTPHeader'],
  ],
  HTTPHeader: [
    ['name', undefined, NO_OMIT_STRING],
    ['value', undefined, NO_OMIT_STRING],
  ],
  TCPSocketAction: [
    ['port', undefined, NO_OMIT_INT],
    ['host', undefined, Z],
  ],
  // k8s.io/api core/v1 GRPCAction: `port` and the `*string` `service` carry no omitempty, so an
  // unset service prints as null (Istio's ISTIO_KUBE_APP_PROBERS shows `"service":null`).
  GRPCAction: [
    ['port', undefined, NO_OMIT_INT],
    ['service', undefined, NO_OMIT_POINTER],
  ],
  SecurityContext: [
    ['capabilities', 'Capabilities'],
    ['privileged'],
    ['seLinuxOptions'],
    ['windowsOptions'],
    ['runAsUser'],
    ['runAsGroup'],
    ['runAsNonRoot'],
    ['readOnlyRootFilesystem'],
    ['allowPrivilegeEscalation'],
    ['procMount'],
    ['seccompProfile'],
    ['appArmorProfile'],
  ],
  Capabilities: [
    ['add', '[]'],
    ['drop', '[]'],
  ],
  /** Istio's agent-side prober (Prober in pilot/cmd/pilot-agent/status). */
  Prober: [
    ['httpGet', 'HTTPGetAction'],
    ['tcpSocket', 'TCPSocketAction'],
    ['grpc', 'GRPCAction'],
    ['timeoutSeconds', undefined, Z],
  ],
};

function isZero(value: JsonValue): boolean {
  return value === '' || value === 0 || value === false || value === null;
}

function sortedMap(value: JsonValue, quantity: boolean): JsonValue {
  if (!isJsonObject(value)) return value;
  return quantity ? sortedObject(value, canonicalQuantityValue) : sortedObject(value);
}

function convert(type: string | undefined, value: JsonValue): JsonValue {
  if (type === undefined) return value;
  if (type.startsWith('[]')) {
    const elem = type.slice(2);
    return Array.isArray(value)
      ? value.map((v) => convert(elem === '' ? undefined : elem, v))
      : value;
  }
  if (type === '{}') return sortedMap(value, false);
  if (type === 'Q{}') return sortedMap(value, true);
  if (type === 'Q') return canonicalQuantityValue(value);
  return orderedJson(type, value);
}

/** Returns `value` re-keyed in the Go field order of `type` (see TYPES). */
export function orderedJson(type: string, value: JsonValue): JsonValue {
  const fields = TYPES[type];
  if (!fields || !isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [name, fieldType, omitZero] of fields) {
    const v = value[name];
    if (v === undefined || v === null) {
      if (typeof omitZero === 'object') out[name] = omitZero.zero;
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
    out[name] = convert(fieldType, v);
  }
  // `resources` is a struct, not a pointer: Go always prints it.
  if (type === 'Container' && out.resources === undefined) {
    const ordered: JsonObject = {};
    for (const [name] of fields) {
      if (name === 'resources') ordered.resources = {};
      else if (out[name] !== undefined) ordered[name] = out[name];
    }
    return ordered;
  }
  return out;
}

/** JSON text of one Kubernetes container, as Go prints it. */
export function containerJson(container: JsonValue): JsonValue {
  return orderedJson('Container', container);
}

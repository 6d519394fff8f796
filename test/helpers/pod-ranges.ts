/**
 * The numeric ranges the API server checks on a Pod beyond its OpenAPI schema (which types these
 * fields int32/int64 but bounds none of them): Kubernetes' ValidatePodCreate,
 * pkg/apis/core/validation/validation.go (validateContainerPorts, validateProbe, validateHTTPGetAction,
 * ValidatePodSecurityContext and ValidateSecurityContext, through apimachinery's IsValidPortNum,
 * IsValidUserID and IsValidGroupID). Returns one line per out-of-range field.
 */
import { isJsonObject, type JsonObject, type JsonValue } from '../../src/core/json.js';

const INT32_MAX = 2_147_483_647;
const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const PROBE_INTS = [
  'initialDelaySeconds',
  'timeoutSeconds',
  'periodSeconds',
  'successThreshold',
  'failureThreshold',
] as const;

type Problems = string[];

function inRange(
  problems: Problems,
  path: string,
  value: JsonValue | undefined,
  min: number,
  max: number,
): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.push(`${path}: ${JSON.stringify(value)} not in ${min}..${max}`);
  }
}

/** A port given as a number must be 1-65535; a string is a named port (its syntax is not ours). */
function portField(problems: Problems, path: string, value: JsonValue | undefined): void {
  if (typeof value === 'number' || (value !== undefined && typeof value !== 'string')) {
    inRange(problems, path, value, 1, 65_535);
  }
}

function securityContext(problems: Problems, path: string, sc: JsonValue | undefined): void {
  if (!isJsonObject(sc)) return;
  inRange(problems, `${path}.runAsUser`, sc['runAsUser'], 0, INT32_MAX);
  inRange(problems, `${path}.runAsGroup`, sc['runAsGroup'], 0, INT32_MAX);
}

function container(problems: Problems, path: string, c: JsonObject): void {
  const ports = c['ports'];
  if (Array.isArray(ports)) {
    ports.forEach((p, i) => {
      if (!isJsonObject(p)) return;
      inRange(problems, `${path}.ports[${i}].containerPort`, p['containerPort'] ?? 0, 1, 65_535);
      inRange(problems, `${path}.ports[${i}].hostPort`, p['hostPort'], 0, 65_535);
    });
  }
  for (const name of PROBES) {
    const probe = c[name];
    if (!isJsonObject(probe)) continue;
    for (const field of PROBE_INTS) {
      inRange(problems, `${path}.${name}.${field}`, probe[field], 0, INT32_MAX);
    }
    for (const handler of ['httpGet', 'tcpSocket', 'grpc']) {
      const h = probe[handler];
      if (isJsonObject(h)) portField(problems, `${path}.${name}.${handler}.port`, h['port']);
    }
  }
  securityContext(problems, `${path}.securityContext`, c['securityContext']);
}

export function podRangeProblems(pod: JsonValue | undefined): string[] {
  const problems: Problems = [];
  if (!isJsonObject(pod) || !isJsonObject(pod['spec'])) return problems;
  const spec = pod['spec'];
  for (const list of ['initContainers', 'containers']) {
    const items = spec[list];
    if (!Array.isArray(items)) continue;
    items.forEach((c, i) => {
      if (isJsonObject(c)) container(problems, `spec.${list}[${i}]`, c);
    });
  }
  const psc = spec['securityContext'];
  securityContext(problems, 'spec.securityContext', psc);
  if (isJsonObject(psc))
    inRange(problems, 'spec.securityContext.fsGroup', psc['fsGroup'], 0, INT32_MAX);
  return problems;
}

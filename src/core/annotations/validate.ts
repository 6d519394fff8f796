/**
 * Validation of the pod annotations the injector reads (spec §4.2), before anything is rendered.
 * Every invalid annotation is reported; any report refuses the injection. The reason texts carry
 * the wording Istio uses (e.g. `includeIPRanges invalid: failed parsing cidr 'bad': ...`).
 */
import { InjectorError, type ErrorDetail } from '../../errors.js';
import type { StringMap } from '../k8s.js';
import { PROXY_CONFIG_ANNOTATION, resolveProxyConfig } from '../proxy-config.js';
import { DEFAULT_MESH } from '../config/defaults.js';
import {
  cidrListError,
  interfaceListError,
  parseGoBool,
  portError,
  portListError,
  uint32Error,
} from './net.js';
import { isQuantityError, parseQuantity } from '../quantity.js';

type Validator = (value: string) => string | undefined;

const INTERCEPTION_MODES = ['REDIRECT', 'TPROXY', 'NONE'];

function prefixed(label: string, check: Validator): Validator {
  return (value) => {
    const problem = check(value);
    return problem === undefined ? undefined : `${label} invalid: ${problem}`;
  };
}

const interceptionMode: Validator = (value) =>
  INTERCEPTION_MODES.includes(value)
    ? undefined
    : `interceptionMode invalid, use ${INTERCEPTION_MODES.join(',')}: ${value}`;

const goBool: Validator = (value) =>
  parseGoBool(value) === undefined
    ? `invalid boolean '${value}': use 1, t, T, TRUE, true, True, 0, f, F, FALSE, false or False`
    : undefined;

const quantity: Validator = (value) => {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is rejected
  if (/[\u0000-\u001f\u007f]/.test(value)) return 'value contains control characters';
  const parsed = parseQuantity(value);
  return isQuantityError(parsed)
    ? `${parsed.error} '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`
    : undefined;
};

const proxyConfig: Validator = (value) => {
  const { issues } = resolveProxyConfig(DEFAULT_MESH, { [PROXY_CONFIG_ANNOTATION]: value });
  return issues[0]?.reason;
};

/** Annotation name -> validator. Annotations not listed here are not validated (spec §4.2). */
export const ANNOTATION_VALIDATORS: Readonly<Record<string, Validator>> = Object.freeze({
  'sidecar.istio.io/interceptionMode': interceptionMode,
  // Istio names the wrong setting in this message; kept so the text matches upstream reports.
  'status.sidecar.istio.io/port': prefixed('excludeInboundPorts', portError),
  'readiness.status.sidecar.istio.io/initialDelaySeconds': uint32Error,
  'readiness.status.sidecar.istio.io/periodSeconds': uint32Error,
  'readiness.status.sidecar.istio.io/failureThreshold': uint32Error,
  'traffic.sidecar.istio.io/includeOutboundIPRanges': prefixed('includeIPRanges', (v) =>
    v === '*' ? undefined : cidrListError(v),
  ),
  'traffic.sidecar.istio.io/excludeOutboundIPRanges': prefixed('excludeIPRanges', cidrListError),
  'traffic.sidecar.istio.io/includeInboundPorts': prefixed('includeInboundPorts', (v) =>
    v === '*' ? undefined : portListError(v),
  ),
  'traffic.sidecar.istio.io/excludeInboundPorts': prefixed('excludeInboundPorts', portListError),
  'traffic.sidecar.istio.io/excludeOutboundPorts': prefixed('excludeOutboundPorts', portListError),
  'traffic.sidecar.istio.io/excludeInterfaces': interfaceListError,
  'traffic.sidecar.istio.io/kubevirtInterfaces': interfaceListError,
  'istio.io/reroute-virtual-interfaces': interfaceListError,
  'prometheus.istio.io/merge-metrics': goBool,
  [PROXY_CONFIG_ANNOTATION]: proxyConfig,
  'sidecar.istio.io/proxyCPU': quantity,
  'sidecar.istio.io/proxyMemory': quantity,
  'sidecar.istio.io/proxyCPULimit': quantity,
  'sidecar.istio.io/proxyMemoryLimit': quantity,
});

const FIELD_RE = /^metadata\.annotations\[(.*)\]$/;

/** Validates every known annotation present; details are sorted by annotation name. */
export function validateAnnotations(annotations: StringMap): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const name of Object.keys(annotations).sort()) {
    const validate = ANNOTATION_VALIDATORS[name];
    const value = annotations[name];
    if (validate === undefined || value === undefined) continue;
    // Pod JSON is user input: annotation values are strings in Kubernetes, but check anyway.
    const reason =
      typeof value === 'string' ? validate(value) : 'annotation values must be strings';
    if (reason !== undefined)
      details.push({ field: `metadata.annotations[${name}]`, value: String(value), reason });
  }
  return details;
}

/** One detail in Istio's wording: `invalid value '<v>' for annotation '<name>': <reason>`. */
export function formatAnnotationError(detail: ErrorDetail): string {
  const name = FIELD_RE.exec(detail.field)?.[1] ?? detail.field;
  return `invalid value '${detail.value ?? ''}' for annotation '${name}': ${detail.reason}`;
}

/** One invalid annotation as an INJ_ERR_INVALID_ANNOTATION error, in the same wording. */
export function invalidAnnotationError(name: string, value: string, reason: string): InjectorError {
  const detail: ErrorDetail = { field: `metadata.annotations[${name}]`, value, reason };
  return new InjectorError('INJ_ERR_INVALID_ANNOTATION', formatAnnotationError(detail), {
    details: [detail],
  });
}

/** Several details as one multi-error text (`2 errors occurred:\n\t* ...\n\t* ...\n\n`). */
export function formatAnnotationErrors(details: readonly ErrorDetail[]): string {
  if (details.length === 0) return '';
  const heading = details.length === 1 ? '1 error occurred:' : `${details.length} errors occurred:`;
  return `${heading}\n${details.map((d) => `\t* ${formatAnnotationError(d)}`).join('\n')}\n\n`;
}

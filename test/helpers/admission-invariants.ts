/**
 * The invariants every answer of the injector keeps, whatever the pod: checked on one generated
 * scenario (test/helpers/hostile-pods.ts), returning every violation found with its class.
 *
 * - never `INJ_ERR_INTERNAL`, never a throw past the envelope;
 * - a patch always applies under strict RFC 6902 semantics (the API server's);
 * - a schema-valid pod stays schema-valid after the patch, and is never refused as malformed;
 * - a pod whose numbers are in the ranges the API server checks (ports, probe fields, UIDs and
 *   GIDs; test/helpers/pod-ranges.ts) keeps them in range after the patch;
 * - no container or init-container name is duplicated by the injection (names are unique across
 *   both lists in Kubernetes);
 * - no pod annotation named like an Object.prototype member is reported as an Istio annotation;
 * - the answer comes before the `?timeout=` the API server sent.
 */
import type { Operation } from 'fast-json-patch';
import { defaultInjectionConfig } from '../../src/core/config/defaults.js';
import type { InjectionConfig } from '../../src/core/config/types.js';
import { isJsonObject, type JsonValue } from '../../src/core/json.js';
import { parseJsonBody } from '../../src/core/json-parse.js';
import { applyPatchStrict } from '../../src/core/patch/apply-strict.js';
import { reviewAdmission, type ReviewResult } from '../../src/core/review.js';
import { budgetMs } from '../../src/http/timeout.js';
import { isInjectorError } from '../../src/errors.js';
import { validatePod } from './pod-schema.js';
import { podRangeProblems } from './pod-ranges.js';
import { PROTOTYPE_KEYS, type Scenario } from './hostile-pods.js';

export type ViolationClass =
  | 'throws'
  | 'internal-error'
  | 'patch-does-not-apply'
  | 'patch-without-type'
  | 'schema-invalid-result'
  | 'out-of-range-result'
  | 'valid-pod-refused'
  | 'duplicate-name'
  | 'prototype-key-as-annotation'
  | 'late';

export interface Violation {
  class: ViolationClass;
  detail: string;
}

let config: InjectionConfig | undefined;

function names(pod: JsonValue | undefined): string[] {
  if (!isJsonObject(pod) || !isJsonObject(pod['spec'])) return [];
  const out: string[] = [];
  for (const key of ['initContainers', 'containers']) {
    const list = pod['spec'][key];
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      if (isJsonObject(item) && typeof item['name'] === 'string') out.push(item['name']);
    }
  }
  return out;
}

function counts(list: readonly string[]): Map<string, number> {
  const map = new Map<string, number>();
  for (const name of list) map.set(name, (map.get(name) ?? 0) + 1);
  return map;
}

function schemaError(pod: unknown): string | undefined {
  try {
    validatePod(pod);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message.slice(0, 300) : String(error);
  }
}

/** Reviews one scenario in process, as the server does after reading the body. */
export function review(scenario: Scenario): {
  result?: ReviewResult;
  error?: unknown;
  ms: number;
  cpuMs: number;
} {
  config ??= defaultInjectionConfig();
  const cpuStarted = process.cpuUsage();
  const started = performance.now();
  const deadline = started + budgetMs(scenario.timeoutMs);
  try {
    const result = reviewAdmission(parseJsonBody(scenario.body), {
      config,
      cluster: {
        nativeSidecars: scenario.nativeSidecars,
        ...(scenario.openshift === undefined
          ? {}
          : { openshift: true, namespaceAnnotations: scenario.openshift }),
      },
      deadlineExceeded: () => performance.now() >= deadline,
    });
    return { result, ms: performance.now() - started, cpuMs: cpuMsSince(cpuStarted) };
  } catch (error) {
    return { error, ms: performance.now() - started, cpuMs: cpuMsSince(cpuStarted) };
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

export function checkScenario(scenario: Scenario): Violation[] {
  const { result, error, ms, cpuMs } = review(scenario);
  const violations: Violation[] = [];
  // Late means the review itself worked past the deadline. Wall time alone would also count the
  // seconds a loaded machine did not run this process at all, so the CPU the process spent must
  // exceed the deadline too.
  if (ms > scenario.timeoutMs && cpuMs > scenario.timeoutMs) {
    violations.push({
      class: 'late',
      detail: `${ms.toFixed(1)} ms (${cpuMs.toFixed(1)} ms of CPU) for ?timeout=${scenario.timeoutMs}ms`,
    });
  }
  if (!result) {
    violations.push({
      class: 'throws',
      detail: isInjectorError(error) ? error.message : String(error),
    });
    return violations;
  }
  const response = result.response.response;
  if (!response.allowed) {
    const message = response.status?.message ?? '';
    if (message.startsWith('INJ_ERR_INTERNAL')) {
      violations.push({ class: 'internal-error', detail: message.slice(0, 300) });
    }
    // A schema-valid pod is refused only when one of its container names clashes with an
    // injected one (the patched pod would be invalid).
    const clash = message.includes('is used by a container the injector adds');
    if (scenario.pristine && message.startsWith('INJ_ERR_INVALID_POD') && !clash) {
      violations.push({ class: 'valid-pod-refused', detail: message.slice(0, 300) });
    }
    if (message.startsWith('INJ_ERR_INVALID_ANNOTATION')) {
      const bogus = PROTOTYPE_KEYS.find((key) => message.includes(`for annotation '${key}'`));
      if (bogus)
        violations.push({ class: 'prototype-key-as-annotation', detail: message.slice(0, 300) });
    }
    return violations;
  }
  if (response.patch === undefined) return violations;
  if (response.patchType !== 'JSONPatch') {
    violations.push({ class: 'patch-without-type', detail: String(response.patchType) });
  }
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as Operation[];
  let patched: JsonValue;
  try {
    patched = applyPatchStrict(scenario.pod as JsonValue, ops);
  } catch (applyError) {
    violations.push({
      class: 'patch-does-not-apply',
      detail: applyError instanceof Error ? applyError.message.slice(0, 300) : String(applyError),
    });
    return violations;
  }
  const before = counts(names(scenario.pod));
  for (const [name, n] of counts(names(patched))) {
    if (n > Math.max(1, before.get(name) ?? 0)) {
      violations.push({ class: 'duplicate-name', detail: `"${name}" ${n} times` });
    }
  }
  if (schemaError(scenario.pod) === undefined) {
    const after = schemaError(patched);
    if (after !== undefined) violations.push({ class: 'schema-invalid-result', detail: after });
  }
  if (podRangeProblems(scenario.pod).length === 0) {
    const after = podRangeProblems(patched);
    if (after.length > 0) {
      violations.push({ class: 'out-of-range-result', detail: after.join('; ').slice(0, 300) });
    }
  }
  return violations;
}

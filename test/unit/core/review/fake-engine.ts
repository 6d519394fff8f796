/**
 * A tiny stand-in for the injection engine: enough behaviour to exercise the review contract and the
 * HTTP layer with specific outcomes (skip, warning, error, slow) without the real templates.
 */
import { InjectorError } from '../../../../src/errors.js';
import type { InjectionEngine } from '../../../../src/core/review.js';
import type { Pod } from '../../../../src/core/k8s.js';
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import type { InjectionConfig } from '../../../../src/core/config/types.js';

export const FAIL_ANNOTATION = 'test.example/fail';

export interface FakeEngineCalls {
  decide: number;
  inject: number;
  selectors: number;
}

export function createFakeEngine(
  options: { selectors?: boolean; throwPlain?: boolean } = {},
): InjectionEngine & { calls: FakeEngineCalls } {
  const calls: FakeEngineCalls = { decide: 0, inject: 0, selectors: 0 };
  const engine: InjectionEngine & { calls: FakeEngineCalls } = {
    calls,
    decide({ pod }) {
      calls.decide += 1;
      const value = pod.metadata?.annotations?.['sidecar.istio.io/inject'];
      if (value === 'false') {
        return {
          inject: false,
          reason: 'pod-annotation-opt-out',
          message: 'opted out',
          warnings: [],
        };
      }
      const warnings =
        value !== undefined && value !== 'true'
          ? [`ignored sidecar.istio.io/inject value "${value}"`]
          : [];
      return { inject: true, reason: 'policy-enabled', message: 'policy enabled', warnings };
    },
    inject({ pod, pathEnv }) {
      calls.inject += 1;
      const bad = pod.metadata?.annotations?.[FAIL_ANNOTATION];
      if (bad !== undefined) {
        if (options.throwPlain) throw new Error('boom');
        throw new InjectorError(
          'INJ_ERR_INVALID_ANNOTATION',
          `invalid value '${bad}' for annotation '${FAIL_ANNOTATION}': not accepted`,
          {
            details: [
              { field: `metadata.annotations[${FAIL_ANNOTATION}]`, value: bad, reason: 'x' },
            ],
          },
        );
      }
      const env = Object.entries(pathEnv ?? {}).map(([name, value]) => ({ name, value }));
      const proxy = { name: 'istio-proxy', image: 'proxy:test', ...(env.length ? { env } : {}) };
      const injected: Pod = structuredClone(pod);
      injected.spec = {
        ...injected.spec,
        containers: [...(injected.spec?.containers ?? []), proxy],
      };
      const hasAnnotations = pod.metadata?.annotations !== undefined;
      return {
        pod: injected,
        patch: [
          { op: 'add', path: '/spec/containers/-', value: proxy },
          hasAnnotations
            ? { op: 'add', path: '/metadata/annotations/sidecar.istio.io~1status', value: '{}' }
            : {
                op: 'add',
                path: '/metadata/annotations',
                value: { 'sidecar.istio.io/status': '{}' },
              },
        ],
        warnings: [],
      };
    },
  };
  if (options.selectors) {
    engine.evaluateWebhookSelectors = ({ namespace }) => {
      calls.selectors += 1;
      return namespace.labels['istio-injection'] === 'enabled'
        ? {
            matched: true,
            reason: 'namespace',
            message: 'Namespace label istio-injection=enabled matches',
          }
        : { matched: false, reason: 'no-injection-label', message: 'No matching namespace labels' };
    };
  }
  return engine;
}

/** The built-in default configuration (frozen); the fake engine reads nothing from it. */
export function fakeConfig(): InjectionConfig {
  return defaultInjectionConfig();
}

/** A v1 (or v1beta1) AdmissionReview for a pod CREATE; `patch` tweaks the request. */
export function makeReview(
  overrides: { apiVersion?: string; request?: Record<string, unknown>; pod?: Pod } = {},
): Record<string, unknown> {
  const pod: Pod = overrides.pod ?? {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'app-', labels: { app: 'x' } },
    spec: { containers: [{ name: 'app', image: 'app:1' }] },
  };
  return {
    apiVersion: overrides.apiVersion ?? 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '0df28fbd-5f5f-11e8-bc74-36e6bb280816',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object: pod,
      oldObject: null,
      dryRun: false,
      ...overrides.request,
    },
  };
}

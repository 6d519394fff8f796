/**
 * Rendered manifests as plain objects: parsing multi-document YAML, schema validation with
 * kubernetes-models (the Kubernetes OpenAPI schemas), and Kubernetes label-selector matching.
 */
import { parseAllDocuments } from 'yaml';
import { Namespace, ServiceAccount, ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import {
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
};

export interface Expression {
  key: string;
  operator: string;
  values?: string[];
}

export interface Webhook {
  name: string;
  clientConfig: {
    caBundle?: string;
    service: { name: string; namespace: string; port: number; path: string };
  };
  rules: {
    operations: string[];
    resources: string[];
    apiGroups: string[];
    apiVersions: string[];
    scope?: string;
  }[];
  sideEffects: string;
  admissionReviewVersions: string[];
  failurePolicy: string;
  timeoutSeconds: number;
  reinvocationPolicy: string;
  namespaceSelector: { matchExpressions: Expression[] };
  objectSelector: { matchExpressions: Expression[] };
}

export interface WebhookConfiguration extends Obj {
  webhooks: Webhook[];
}

export function parseObjects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null && typeof o === 'object');
}

interface Validatable {
  validate(): void;
}
const MODELS = new Map<string, new (data: never) => Validatable>([
  ['v1/Namespace', Namespace],
  ['v1/ServiceAccount', ServiceAccount],
  ['v1/ConfigMap', ConfigMap],
  ['v1/Secret', Secret],
  ['v1/Service', Service],
  ['apps/v1/Deployment', Deployment],
  ['policy/v1/PodDisruptionBudget', PodDisruptionBudget],
  ['autoscaling/v2/HorizontalPodAutoscaler', HorizontalPodAutoscaler],
  ['rbac.authorization.k8s.io/v1/ClusterRole', ClusterRole],
  ['rbac.authorization.k8s.io/v1/ClusterRoleBinding', ClusterRoleBinding],
  ['rbac.authorization.k8s.io/v1/Role', Role],
  ['rbac.authorization.k8s.io/v1/RoleBinding', RoleBinding],
  ['admissionregistration.k8s.io/v1/MutatingWebhookConfiguration', MutatingWebhookConfiguration],
]);

/** Custom resources the schema package does not ship; the tests check them field by field. */
export const CRD_KINDS: ReadonlySet<string> = new Set([
  'cert-manager.io/v1/Issuer',
  'cert-manager.io/v1/Certificate',
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
]);

/** Throws with the object's kind and name when it does not pass its Kubernetes schema. */
export function validateObject(obj: Obj): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (CRD_KINDS.has(key)) return;
  const Model = MODELS.get(key);
  if (Model === undefined) throw new Error(`no schema for ${key} (${obj.metadata.name})`);
  try {
    new Model(obj as never).validate();
  } catch (error) {
    throw new Error(`${key} ${obj.metadata.name}: ${(error as Error).message}`, { cause: error });
  }
}

export function find(objs: Obj[], kind: string, name?: string): Obj {
  const found = objs.find(
    (o) => o.kind === kind && (name === undefined || o.metadata.name === name),
  );
  if (found === undefined) throw new Error(`no ${kind} ${name ?? ''} rendered`);
  return found;
}

export function webhookConfigurations(objs: Obj[]): WebhookConfiguration[] {
  return objs.filter((o) => o.kind === 'MutatingWebhookConfiguration') as WebhookConfiguration[];
}

/** Kubernetes set-based selector semantics (apimachinery labels.Selector). */
export function matchesExpressions(
  labels: Readonly<Record<string, string>>,
  expressions: readonly Expression[],
): boolean {
  return expressions.every((e) => {
    const has = Object.hasOwn(labels, e.key);
    const value = has ? labels[e.key] : undefined;
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(value ?? '');
      case 'NotIn':
        return !has || !(e.values ?? []).includes(value ?? '');
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        throw new Error(`unknown selector operator ${e.operator}`);
    }
  });
}

/** The entries of a configuration that the API server would call for this pod. */
export function selectingEntries(
  config: WebhookConfiguration,
  nsLabels: Readonly<Record<string, string>>,
  podLabels: Readonly<Record<string, string>>,
): string[] {
  return config.webhooks
    .filter(
      (w) =>
        matchesExpressions(nsLabels, w.namespaceSelector.matchExpressions) &&
        matchesExpressions(podLabels, w.objectSelector.matchExpressions),
    )
    .map((w) => w.name);
}

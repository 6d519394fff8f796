/**
 * Minimal structural Kubernetes types for the objects the core reads and writes.
 * They are deliberately open (index signatures): the core works on raw JSON as received
 * and must keep every field it does not know, so nothing is dropped from a patched pod.
 */
import type { JsonObject, JsonValue } from './json.js';

export type StringMap = Record<string, string>;

export interface OwnerReference {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
  [key: string]: JsonValue | undefined;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
  ownerReferences?: OwnerReference[];
  [key: string]: JsonValue | undefined;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: JsonObject;
  [key: string]: JsonValue | undefined;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
  hostIP?: string;
  [key: string]: JsonValue | undefined;
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  ports?: ContainerPort[];
  volumeMounts?: JsonObject[];
  securityContext?: JsonObject;
  resources?: JsonObject;
  readinessProbe?: JsonObject;
  livenessProbe?: JsonObject;
  startupProbe?: JsonObject;
  lifecycle?: JsonObject;
  restartPolicy?: string;
  [key: string]: JsonValue | undefined;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: JsonObject[];
  imagePullSecrets?: JsonObject[];
  hostNetwork?: boolean;
  nodeName?: string;
  serviceAccountName?: string;
  securityContext?: JsonObject;
  dnsPolicy?: string;
  [key: string]: JsonValue | undefined;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  status?: JsonObject;
  [key: string]: JsonValue | undefined;
}

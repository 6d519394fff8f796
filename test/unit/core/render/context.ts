/** A RenderContext over the embedded default configuration, for table tests. */
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import { mergeMeshObjects, mergeValues } from '../../../../src/core/config/merge.js';
import type { MeshConfig } from '../../../../src/core/config/types.js';
import type { RenderContext } from '../../../../src/core/contracts.js';
import type { JsonObject } from '../../../../src/core/json.js';
import type { Container, Pod, StringMap } from '../../../../src/core/pod-types.js';
import { resolveProxyConfig } from '../../../../src/core/proxy-config.js';

export interface ContextOptions {
  annotations?: StringMap;
  labels?: StringMap;
  containers?: Container[];
  values?: JsonObject;
  mesh?: JsonObject;
  native?: boolean;
  compliancePolicy?: string;
}

export function podWith(options: ContextOptions = {}): Pod {
  return {
    metadata: {
      name: 'web',
      annotations: options.annotations ?? {},
      labels: options.labels ?? { app: 'web' },
    },
    spec: {
      containers: options.containers ?? [
        { name: 'web', image: 'example.com/web:1.0', ports: [{ containerPort: 8080 }] },
      ],
    },
  };
}

export function contextWith(options: ContextOptions = {}): RenderContext {
  const config = defaultInjectionConfig();
  const values =
    options.values === undefined ? config.values : mergeValues(config.values, options.values);
  const mesh =
    options.mesh === undefined
      ? config.mesh
      : (mergeMeshObjects(config.mesh, options.mesh) as MeshConfig);
  const pod = podWith(options);
  const { proxyConfig, issues } = resolveProxyConfig(mesh, pod.metadata?.annotations ?? {});
  if (issues.length > 0) throw new Error(JSON.stringify(issues));
  return {
    pod,
    typeMeta: { kind: 'Deployment', apiVersion: 'apps/v1' },
    deploymentMeta: { name: 'web', namespace: 'shop' },
    proxyConfig,
    mesh,
    values,
    revision: 'default',
    nativeSidecars: options.native ?? true,
    proxyUID: 1337,
    proxyGID: 1337,
    compliancePolicy: options.compliancePolicy ?? '',
  };
}

/**
 * Sidecar renderer behaviour the corpus goldens do not show: annotation switches, security
 * context variants, optional volumes, error reporting for unparseable JSON annotations.
 */
import { describe, expect, it } from 'vitest';
import { isInjectorError } from '../../../../src/errors.js';
import { renderTemplate } from '../../../../src/core/render/index.js';
import type { Container, EnvVar, Pod, StringMap } from '../../../../src/core/pod-types.js';
import type { JsonObject } from '../../../../src/core/json.js';
import { contextWith, type ContextOptions } from './context.js';

function render(options: ContextOptions = {}): Pod {
  return renderTemplate('sidecar', contextWith(options));
}

function proxyOf(pod: Pod): Container {
  const found = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === 'istio-proxy',
  );
  if (found === undefined) throw new Error('no istio-proxy');
  return found;
}

function initOf(pod: Pod): Container | undefined {
  return pod.spec?.initContainers?.find(
    (c) => c.name === 'istio-init' || c.name === 'istio-validation',
  );
}

function envOf(container: Container): Record<string, EnvVar> {
  return Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));
}

function volumeNames(pod: Pod): string[] {
  return (pod.spec?.volumes ?? []).map((v) => v.name as string);
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('placement', () => {
  it.each([
    [true, undefined, 'initContainers'],
    [false, undefined, 'containers'],
    [false, 'true', 'initContainers'],
    [true, 'false', 'containers'],
    [true, 'yes', 'initContainers'],
  ])('global native %s with annotation %j -> %s', (native, annotation, list) => {
    const annotations: StringMap =
      annotation === undefined ? {} : { 'sidecar.istio.io/nativeSidecar': annotation };
    const pod = render({ native, annotations });
    const inInit = pod.spec?.initContainers?.some((c) => c.name === 'istio-proxy') ?? false;
    expect(inInit ? 'initContainers' : 'containers').toBe(list);
    expect(proxyOf(pod).restartPolicy).toBe(list === 'initContainers' ? 'Always' : undefined);
  });

  it('renders an empty init container list for classic NONE and only the proxy for native NONE', () => {
    const annotations = { 'sidecar.istio.io/interceptionMode': 'NONE' };
    expect(render({ native: false, annotations }).spec?.initContainers).toEqual([]);
    expect(render({ native: true, annotations }).spec?.initContainers?.map((c) => c.name)).toEqual([
      'istio-proxy',
    ]);
  });
});

describe('lifecycle', () => {
  it('waits for the proxy in classic mode when hold is on (values or proxy config)', () => {
    const viaValues = render({
      native: false,
      values: { global: { proxy: { holdApplicationUntilProxyStarts: true } } },
    });
    expect(proxyOf(viaValues).lifecycle).toEqual({
      postStart: { exec: { command: ['pilot-agent', 'wait'] } },
    });
    const viaAnnotation = render({
      native: false,
      annotations: { 'proxy.istio.io/config': 'holdApplicationUntilProxyStarts: true' },
    });
    expect(proxyOf(viaAnnotation).lifecycle).toEqual({
      postStart: { exec: { command: ['pilot-agent', 'wait'] } },
    });
  });

  it('has no lifecycle in classic mode without hold, and a drain hook in native mode', () => {
    expect(proxyOf(render({ native: false })).lifecycle).toBeUndefined();
    expect(
      proxyOf(render({ native: true, annotations: { 'status.sidecar.istio.io/port': '0' } }))
        .lifecycle,
    ).toEqual({
      preStop: { exec: { command: ['pilot-agent', 'request', '--debug-port=0', 'POST', 'drain'] } },
    });
  });

  it('uses global.proxy.lifecycle verbatim', () => {
    const lifecycle = { preStop: { exec: { command: ['sleep', '5'] } } };
    expect(proxyOf(render({ values: { global: { proxy: { lifecycle } } } })).lifecycle).toEqual(
      lifecycle,
    );
  });
});

describe('security contexts', () => {
  it('runs as root with NET_BIND_SERVICE for capNetBindService (annotation wins over values)', () => {
    const bind = proxyOf(render({ annotations: { 'sidecar.istio.io/capNetBindService': 'true' } }));
    expect(bind.securityContext).toMatchObject({
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      runAsUser: 0,
      runAsGroup: 1337,
      runAsNonRoot: false,
    });
    const off = proxyOf(
      render({
        annotations: { 'sidecar.istio.io/capNetBindService': 'false' },
        values: { global: { proxy: { capNetBindService: true } } },
      }),
    );
    expect(off.securityContext).toMatchObject({ capabilities: { drop: ['ALL'] }, runAsUser: 1337 });
  });

  it('adds NET_ADMIN and NET_BIND_SERVICE together under TPROXY', () => {
    const proxy = proxyOf(
      render({
        annotations: {
          'sidecar.istio.io/interceptionMode': 'TPROXY',
          'sidecar.istio.io/capNetBindService': 'true',
        },
      }),
    );
    expect(proxy.securityContext?.capabilities).toEqual({
      add: ['NET_ADMIN', 'NET_BIND_SERVICE'],
      drop: ['ALL'],
    });
  });

  it('makes the proxy privileged root for iptables trace logging', () => {
    const proxy = proxyOf(
      render({
        annotations: { 'proxy.istio.io/config': 'proxyMetadata: {IPTABLES_TRACE_LOGGING: "true"}' },
      }),
    );
    expect(proxy.securityContext).toEqual({
      allowPrivilegeEscalation: true,
      capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] },
      privileged: true,
      readOnlyRootFilesystem: true,
      runAsGroup: 1337,
      runAsNonRoot: false,
      runAsUser: 0,
    });
  });

  it('applies global.proxy.privileged and seccompProfile to proxy and init', () => {
    const seccompProfile = { type: 'RuntimeDefault' };
    const pod = render({ values: { global: { proxy: { privileged: true, seccompProfile } } } });
    for (const container of [proxyOf(pod), initOf(pod)]) {
      expect(container?.securityContext).toMatchObject({
        privileged: true,
        allowPrivilegeEscalation: true,
        seccompProfile,
      });
    }
  });
});

describe('resources', () => {
  it('builds requests and limits only from the annotations present, canonicalised', () => {
    const pod = render({
      annotations: {
        'sidecar.istio.io/proxyMemory': '1024Mi',
        'sidecar.istio.io/proxyCPULimit': '2000m',
      },
    });
    const expected = { requests: { memory: '1Gi' }, limits: { cpu: '2' } };
    expect(proxyOf(pod).resources).toEqual(expected);
    expect(initOf(pod)?.resources).toEqual(expected);
  });

  it('canonicalises values resources', () => {
    expect(proxyOf(render()).resources).toEqual({
      requests: { cpu: '100m', memory: '128Mi' },
      limits: { cpu: '2', memory: '1Gi' },
    });
  });
});

describe('probes', () => {
  it('take readiness timings from annotations and drop the startup probe when disabled', () => {
    const proxy = proxyOf(
      render({
        annotations: {
          'readiness.status.sidecar.istio.io/initialDelaySeconds': '7',
          'readiness.status.sidecar.istio.io/periodSeconds': '9',
          'readiness.status.sidecar.istio.io/failureThreshold': '11',
        },
        values: { global: { proxy: { startupProbe: { enabled: false } } } },
      }),
    );
    expect(proxy.readinessProbe).toEqual({
      httpGet: { path: '/healthz/ready', port: 15021 },
      initialDelaySeconds: 7,
      periodSeconds: 9,
      failureThreshold: 11,
      timeoutSeconds: 3,
    });
    expect(proxy.startupProbe).toBeUndefined();
  });
});

describe('env', () => {
  it('puts ISTIO_BOOTSTRAP_OVERRIDE before the mesh identity and mounts the bootstrap ConfigMap', () => {
    const pod = render({ annotations: { 'sidecar.istio.io/bootstrapOverride': 'my-bootstrap' } });
    const names = (proxyOf(pod).env ?? []).map((e) => e.name);
    expect(names.indexOf('ISTIO_BOOTSTRAP_OVERRIDE')).toBe(names.indexOf('ISTIO_META_MESH_ID') - 1);
    expect(envOf(proxyOf(pod)).ISTIO_BOOTSTRAP_OVERRIDE?.value).toBe(
      '/etc/istio/custom-bootstrap/custom_bootstrap.json',
    );
    expect(proxyOf(pod).volumeMounts).toContainEqual({
      name: 'custom-bootstrap-volume',
      mountPath: '/etc/istio/custom-bootstrap',
    });
    expect(pod.spec?.volumes?.[3]).toEqual({
      name: 'custom-bootstrap-volume',
      configMap: { name: 'my-bootstrap' },
    });
  });

  it('adds Datadog env (sorted) only with the datadog tracer', () => {
    const annotations = {
      'apm.datadoghq.com/env': '{"DD_SERVICE":"web","DD_ENV":"prod","DD_RATE":1}',
    };
    const without = envOf(proxyOf(render({ annotations })));
    expect(without.DD_ENV).toBeUndefined();
    const proxy = proxyOf(
      render({ annotations, values: { global: { proxy: { tracer: 'datadog' } } } }),
    );
    const names = (proxy.env ?? []).map((e) => e.name);
    const at = names.indexOf('TRUST_DOMAIN');
    expect(names.slice(at + 1, at + 4)).toEqual(['DD_ENV', 'DD_RATE', 'DD_SERVICE']);
    expect(envOf(proxy).DD_RATE?.value).toBe('1');
  });

  it('uses meshID, cluster name, network, CA address and revision values', () => {
    const proxy = proxyOf(
      render({
        values: {
          revision: 'canary',
          global: { meshID: 'm1', network: 'n1', multiCluster: { clusterName: 'c1' } },
        },
      }),
    );
    const env = envOf(proxy);
    expect(env.ISTIO_META_MESH_ID?.value).toBe('m1');
    expect(env.ISTIO_META_CLUSTER_ID?.value).toBe('c1');
    expect(env.ISTIO_META_NETWORK?.value).toBe('n1');
    expect(env.CA_ADDR?.value).toBe('istiod-canary.istio-system.svc:15012');
    expect(
      envOf(proxyOf(render({ values: { global: { caAddress: 'ca:1' } } }))).CA_ADDR?.value,
    ).toBe('ca:1');
  });

  it('appends proxyMetadata sorted, to the proxy and to the init container', () => {
    const pod = render({
      annotations: { 'proxy.istio.io/config': 'proxyMetadata: {B: "2", A: "1"}' },
    });
    expect((proxyOf(pod).env ?? []).slice(-2)).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
    expect(initOf(pod)?.env).toEqual([
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ]);
  });

  it('leaves ISTIO_META_APP_CONTAINERS without value when the pod has only istio-proxy', () => {
    const proxy = proxyOf(render({ containers: [{ name: 'istio-proxy', image: 'auto' }] }));
    expect(envOf(proxy).ISTIO_META_APP_CONTAINERS).toEqual({ name: 'ISTIO_META_APP_CONTAINERS' });
  });
});

describe('metadata', () => {
  it('keeps existing tlsMode/default-container values and adds the HBONE tunnel label', () => {
    const pod = render({
      labels: { app: 'web', 'security.istio.io/tlsMode': 'disabled' },
      annotations: {
        'kubectl.kubernetes.io/default-container': 'other',
        'proxy.istio.io/config': 'proxyMetadata: {ISTIO_META_ENABLE_HBONE: "true"}',
      },
    });
    expect(pod.metadata?.labels).toMatchObject({
      'security.istio.io/tlsMode': 'disabled',
      'networking.istio.io/tunnel': 'http',
    });
    expect(pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container']).toBeUndefined();
    expect(pod.metadata?.annotations?.['kubectl.kubernetes.io/default-logs-container']).toBe('web');
  });

  it('writes the CNI traffic annotations from the effective settings', () => {
    const pod = render({
      values: { pilot: { cni: { enabled: true, provider: 'default' } } },
      annotations: {
        'traffic.sidecar.istio.io/excludeOutboundPorts': '25',
        'traffic.sidecar.istio.io/excludeInterfaces': 'eth1',
      },
    });
    expect(pod.metadata?.annotations).toEqual({
      'istio.io/rev': 'default',
      'kubectl.kubernetes.io/default-container': 'web',
      'kubectl.kubernetes.io/default-logs-container': 'web',
      'sidecar.istio.io/interceptionMode': 'REDIRECT',
      'traffic.sidecar.istio.io/includeOutboundIPRanges': '*',
      'traffic.sidecar.istio.io/includeInboundPorts': '*',
      'traffic.sidecar.istio.io/excludeInboundPorts': '15020',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '25',
      'traffic.sidecar.istio.io/excludeInterfaces': 'eth1',
    });
    expect(initOf(pod)?.name).toBe('istio-validation');
  });
});

describe('volumes', () => {
  it('uses the GKE workload certificate CSI volume for caName GkeWorkloadCertificate', () => {
    const pod = render({ values: { global: { caName: 'GkeWorkloadCertificate' } } });
    expect(pod.spec?.volumes?.[2]).toEqual({
      name: 'gke-workload-certificate',
      csi: { driver: 'workloadcertificates.security.cloud.google.com' },
    });
    expect(proxyOf(pod).volumeMounts?.[2]).toEqual({
      name: 'gke-workload-certificate',
      mountPath: '/var/run/secrets/workload-spiffe-credentials',
      readOnly: true,
    });
  });

  it('projects a ClusterTrustBundle when the API is enabled, and names the CRL ConfigMap', () => {
    const pod = render({
      values: {
        pilot: { env: { ENABLE_CLUSTER_TRUST_BUNDLE_API: true }, crlConfigMapName: 'my-crl' },
        global: { trustBundleName: 'bundle' },
      },
    });
    const byName: Record<string, JsonObject> = Object.fromEntries(
      (pod.spec?.volumes ?? []).map((v) => [v.name as string, v]),
    );
    expect(byName['istiod-ca-cert']).toEqual({
      name: 'istiod-ca-cert',
      projected: {
        sources: [
          { clusterTrustBundle: { name: 'istio.io:istiod-ca:bundle', path: 'root-cert.pem' } },
        ],
      },
    });
    expect(byName['istio-ca-crl']).toEqual({
      name: 'istio-ca-crl',
      configMap: { name: 'my-crl', optional: true },
    });
  });

  it('drops the CA volumes when the certificate provider is not istiod', () => {
    const pod = render({ values: { global: { pilotCertProvider: 'kubernetes' } } });
    expect(volumeNames(pod)).not.toContain('istiod-ca-cert');
    expect((proxyOf(pod).volumeMounts ?? []).map((m) => m.name)).not.toContain('istio-ca-crl');
  });

  it('mounts lightstep certificates from the tracing TLS settings', () => {
    const pod = render({
      values: { global: { proxy: { tracer: 'lightstep' } } },
      mesh: { defaultConfig: { tracing: { tlsSettings: { caCertificates: '/etc/ls/ca.pem' } } } },
    });
    expect(volumeNames(pod).at(-1)).toBe('lightstep-certs');
    expect(proxyOf(pod).volumeMounts).toContainEqual({
      name: 'lightstep-certs',
      mountPath: '/etc/ls',
      readOnly: true,
    });
  });

  it('adds user volumes and mounts from the JSON object annotations, in key order', () => {
    const pod = render({
      annotations: {
        'sidecar.istio.io/userVolume': '{"b":{"emptyDir":{}},"a":{"secret":{"secretName":"s"}}}',
        'sidecar.istio.io/userVolumeMount':
          '{"b":{"mountPath":"/b"},"a":{"mountPath":"/a","readOnly":true}}',
      },
    });
    expect(pod.spec?.volumes?.slice(-2)).toEqual([
      { name: 'b', emptyDir: {} },
      { name: 'a', secret: { secretName: 's' } },
    ]);
    expect(proxyOf(pod).volumeMounts?.slice(-2)).toEqual([
      { name: 'b', mountPath: '/b' },
      { name: 'a', mountPath: '/a', readOnly: true },
    ]);
  });

  it('emits image pull secrets from values, names or objects', () => {
    const pod = render({ values: { global: { imagePullSecrets: ['one', { name: 'two' }] } } });
    expect(pod.spec?.imagePullSecrets).toEqual([{ name: 'one' }, { name: 'two' }]);
    expect(render().spec?.imagePullSecrets).toBeUndefined();
  });
});

describe('unparseable JSON annotations are reported', () => {
  it.each<[string, string, JsonObject]>([
    ['sidecar.istio.io/userVolume', '{"a":', {}],
    ['sidecar.istio.io/userVolume', '[{"name":"a"}]', {}],
    ['sidecar.istio.io/userVolumeMount', 'not json', {}],
    ['sidecar.istio.io/userVolumeMount', '{"a":"/mnt"}', {}],
    ['apm.datadoghq.com/env', '{bad', { global: { proxy: { tracer: 'datadog' } } }],
  ])('%s = %j', (key, value, values) => {
    const error = thrown(() => render({ annotations: { [key]: value }, values }));
    expect(isInjectorError(error)).toBe(true);
    if (!isInjectorError(error)) return;
    expect(error.code).toBe('INJ_ERR_INVALID_ANNOTATION');
    expect(error.message).toContain(key);
    expect(error.message).toContain(value);
    expect(error.details[0]?.field).toBe(`metadata.annotations[${key}]`);
  });
});

describe('renderTemplate', () => {
  it('rejects a name that is not a built-in template', () => {
    const error = thrown(() => renderTemplate('waypoint', contextWith()));
    expect(isInjectorError(error) && error.code).toBe('INJ_ERR_TEMPLATE_NOT_FOUND');
    expect((error as Error).message).toContain('requested template "waypoint" not found');
  });

  it('does not modify the context it reads', () => {
    const ctx = contextWith({
      annotations: { 'sidecar.istio.io/userVolume': '{"a":{"emptyDir":{}}}' },
    });
    const before = JSON.stringify(ctx);
    renderTemplate('sidecar', ctx);
    renderTemplate('gateway', ctx);
    renderTemplate('grpc-agent', ctx);
    renderTemplate('grpc-simple', ctx);
    expect(JSON.stringify(ctx)).toBe(before);
  });
});

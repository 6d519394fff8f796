/** Gateway and gRPC renderers, and OpenTelemetry resource attributes, beyond the goldens. */
import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../../src/core/render/index.js';
import { otelResourceAttributes } from '../../../../src/core/render/metadata.js';
import type { Container, Pod } from '../../../../src/core/pod-types.js';
import { contextWith, podWith } from './context.js';

function container(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === name,
  );
}

describe('gateway', () => {
  it('is never native, has no init container and no tlsMode label', () => {
    const pod = renderTemplate('gateway', contextWith({ native: true }));
    expect(pod.spec?.initContainers).toBeUndefined();
    expect(pod.spec?.containers?.map((c) => c.name)).toEqual(['istio-proxy']);
    expect(container(pod, 'istio-proxy')?.args?.slice(0, 2)).toEqual(['proxy', 'router']);
    expect(pod.metadata?.labels?.['security.istio.io/tlsMode']).toBeUndefined();
  });

  it('takes resources from the annotations only', () => {
    expect(
      container(renderTemplate('gateway', contextWith()), 'istio-proxy')?.resources,
    ).toBeUndefined();
    const pod = renderTemplate(
      'gateway',
      contextWith({ annotations: { 'sidecar.istio.io/proxyCPU': '1500m' } }),
    );
    expect(container(pod, 'istio-proxy')?.resources).toEqual({ requests: { cpu: '1500m' } });
  });

  it('uses gateways.securityContext when set, else the unprivileged-port sysctl', () => {
    expect(renderTemplate('gateway', contextWith()).spec?.securityContext).toEqual({
      sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
    });
    const custom = { runAsNonRoot: true };
    const pod = renderTemplate(
      'gateway',
      contextWith({ values: { gateways: { securityContext: custom } } }),
    );
    expect(pod.spec?.securityContext).toEqual(custom);
  });

  it('does not truncate the canonical name', () => {
    const long = 'g'.repeat(70);
    const pod = renderTemplate('gateway', contextWith({ labels: { app: long } }));
    expect(pod.metadata?.labels?.['service.istio.io/canonical-name']).toBe(long);
  });
});

describe('grpc-agent', () => {
  it('serves readiness and metrics from the status port', () => {
    const pod = renderTemplate(
      'grpc-agent',
      contextWith({ annotations: { 'status.sidecar.istio.io/port': '15999' } }),
    );
    const agent = container(pod, 'istio-proxy');
    expect(agent?.ports).toEqual([{ containerPort: 15999, protocol: 'TCP', name: 'mesh-metrics' }]);
    expect(agent?.readinessProbe?.httpGet).toEqual({ path: '/healthz/ready', port: 15999 });
    expect(agent?.lifecycle).toEqual({
      postStart: {
        exec: { command: ['pilot-agent', 'wait', '--url=http://localhost:15999/healthz/ready'] },
      },
    });
    expect(pod.metadata?.annotations?.['sidecar.istio.io/rewriteAppHTTPProbers']).toBe('false');
  });

  it('adds the bootstrap env to every application container', () => {
    const pod = renderTemplate(
      'grpc-agent',
      contextWith({ containers: [{ name: 'a' }, { name: 'b' }] }),
    );
    expect(pod.spec?.containers?.map((c) => c.name)).toEqual(['istio-proxy', 'a', 'b']);
    expect(container(pod, 'b')?.env?.map((e) => e.name)).toEqual([
      'GRPC_XDS_EXPERIMENTAL_SECURITY_SUPPORT',
      'GRPC_XDS_BOOTSTRAP',
    ]);
  });
});

describe('grpc-simple', () => {
  it('writes the bootstrap for the configured cluster domain and Istio namespace', () => {
    const pod = renderTemplate(
      'grpc-simple',
      contextWith({
        values: { global: { istioNamespace: 'mesh', proxy: { clusterDomain: 'corp.local' } } },
      }),
    );
    const init = container(pod, 'grpc-bootstrap-init');
    expect(init?.command?.[2]).toContain('~corp.local"');
    expect(init?.env?.at(-1)).toEqual({ name: 'ISTIO_NAMESPACE', value: 'mesh\n' });
    expect(pod.metadata?.labels).toBeUndefined();
  });
});

describe('OTEL_RESOURCE_ATTRIBUTES', () => {
  it.each([
    [
      'labels and the first container',
      podWith({ labels: { 'app.kubernetes.io/version': 'v9' } }),
      'ns',
      'service.namespace=ns,service.version=v9,service.instance.id=ns.$(POD_NAME).web',
    ],
    [
      'image tag of a single-container pod',
      podWith({ labels: {} }),
      '',
      'service.namespace=default,service.version=1.0,service.instance.id=default.$(POD_NAME).web',
    ],
    [
      'no version for several containers without the label',
      podWith({
        labels: {},
        containers: [
          { name: 'a', image: 'x:1' },
          { name: 'b', image: 'y:2' },
        ],
      }),
      'ns',
      'service.namespace=ns,service.instance.id=ns.$(POD_NAME).a',
    ],
    [
      'annotations win',
      podWith({
        annotations: {
          'resource.opentelemetry.io/service.namespace': 'team',
          'resource.opentelemetry.io/service.version': '2',
          'resource.opentelemetry.io/service.instance.id': 'id-1',
        },
      }),
      'ns',
      'service.namespace=team,service.version=2,service.instance.id=id-1',
    ],
  ])('%s', (_name, pod, namespace, want) => {
    expect(otelResourceAttributes(pod, namespace)).toBe(want);
  });

  it('is only emitted when a mesh OpenTelemetry provider asks for it', () => {
    const env = (mesh?: object) =>
      container(
        renderTemplate('sidecar', contextWith(mesh === undefined ? {} : { mesh: mesh as never })),
        'istio-proxy',
      )?.env?.map((e) => e.name) ?? [];
    expect(env()).not.toContain('OTEL_RESOURCE_ATTRIBUTES');
    const provider = {
      name: 'otel',
      opentelemetry: {
        service: 'c',
        port: 4317,
        serviceAttributeEnrichment: 'OTEL_SEMANTIC_CONVENTIONS',
      },
    };
    expect(env({ extensionProviders: [provider] })).toContain('OTEL_RESOURCE_ATTRIBUTES');
  });
});

/** The agent pieces shared by the sidecar, gateway and grpc-agent templates. */
import { describe, expect, it } from 'vitest';
import {
  agentMounts,
  appContainersEnv,
  bootstrapOverrideEnv,
  bootstrapOverrideVolume,
  complianceEnv,
  istiodCertificates,
} from '../../../../src/core/render/agent.js';
import { renderTemplate } from '../../../../src/core/render/index.js';
import type { Container, Pod } from '../../../../src/core/pod-types.js';
import { contextWith } from './context.js';

function proxyOf(pod: Pod): Container | undefined {
  return [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find(
    (c) => c.name === 'istio-proxy',
  );
}

describe('agentMounts', () => {
  it('mounts the named volumes in the order given and skips false entries', () => {
    expect(
      agentMounts(contextWith({}), ['istio-data', false, 'istio-xds', 'istio-podinfo']),
    ).toEqual([
      { name: 'istio-data', mountPath: '/var/lib/istio/data' },
      { name: 'istio-xds', mountPath: '/etc/istio/proxy' },
      { name: 'istio-podinfo', mountPath: '/etc/istio/pod' },
    ]);
  });

  it('mounts the volumes a pod has only sometimes only where the pod has them', () => {
    const names = ['istiod-ca-cert', 'istio-ca-crl', 'custom-bootstrap-volume'] as const;
    const without = contextWith({ values: { global: { pilotCertProvider: 'kubernetes' } } });
    expect(agentMounts(without, names)).toEqual([]);
    const withAll = contextWith({
      values: { global: { pilotCertProvider: 'istiod' } },
      annotations: { 'sidecar.istio.io/bootstrapOverride': 'my-bootstrap' },
    });
    expect(agentMounts(withAll, names).map((mount) => mount.name)).toEqual([...names]);
  });

  it('returns fresh objects, so a template may change its own copy', () => {
    const [first] = agentMounts(contextWith({}), ['istio-token']);
    if (first !== undefined) first.readOnly = true;
    expect(agentMounts(contextWith({}), ['istio-token'])).toEqual([
      { name: 'istio-token', mountPath: '/var/run/secrets/tokens' },
    ]);
  });
});

describe('complianceEnv', () => {
  it.each([
    ['', []],
    ['fips-140-2', [{ name: 'COMPLIANCE_POLICY', value: 'fips-140-2' }]],
    [
      'fips-140-3',
      [
        { name: 'COMPLIANCE_POLICY', value: 'fips-140-3' },
        { name: 'GODEBUG', value: 'fips140=only' },
      ],
    ],
  ])('policy %j', (compliancePolicy, want) => {
    expect(complianceEnv(contextWith({ compliancePolicy }))).toEqual(want);
  });
});

describe('appContainersEnv', () => {
  it.each<[Container[], { name: string; value?: string }]>([
    [
      [{ name: 'web' }, { name: 'istio-proxy' }],
      { name: 'ISTIO_META_APP_CONTAINERS', value: 'web' },
    ],
    [[{ name: 'istio-proxy' }], { name: 'ISTIO_META_APP_CONTAINERS' }],
  ])('%j', (containers, want) => {
    expect(appContainersEnv(contextWith({ containers }))).toEqual(want);
  });
});

describe('bootstrap override', () => {
  const annotations = { 'sidecar.istio.io/bootstrapOverride': 'my-bootstrap' };

  it('is absent without the annotation', () => {
    expect(bootstrapOverrideEnv({})).toEqual([]);
    expect(bootstrapOverrideVolume({})).toEqual([]);
  });

  it('names the ConfigMap and the file inside its mount', () => {
    expect(bootstrapOverrideEnv(annotations)).toEqual([
      {
        name: 'ISTIO_BOOTSTRAP_OVERRIDE',
        value: '/etc/istio/custom-bootstrap/custom_bootstrap.json',
      },
    ]);
    expect(bootstrapOverrideVolume(annotations)).toEqual([
      { name: 'custom-bootstrap-volume', configMap: { name: 'my-bootstrap' } },
    ]);
  });

  it.each(['sidecar', 'gateway'])('the %s proxy mounts it where the env points', (template) => {
    const proxy = proxyOf(renderTemplate(template, contextWith({ annotations })));
    expect(proxy?.volumeMounts).toContainEqual({
      name: 'custom-bootstrap-volume',
      mountPath: '/etc/istio/custom-bootstrap',
    });
    expect(proxy?.env).toContainEqual(bootstrapOverrideEnv(annotations)[0]);
  });
});

describe('istiod CA root', () => {
  it.each([
    ['istiod', true],
    ['kubernetes', false],
    ['custom', false],
  ])('pilotCertProvider %s -> %s', (provider, want) => {
    const ctx = contextWith({ values: { global: { pilotCertProvider: provider } } });
    expect(istiodCertificates(ctx.values)).toBe(want);
    for (const template of ['sidecar', 'gateway', 'grpc-agent']) {
      const proxy = proxyOf(renderTemplate(template, ctx));
      const mounted = (proxy?.volumeMounts ?? []).some((m) => m.name === 'istiod-ca-cert');
      expect(mounted, template).toBe(want);
    }
  });
});

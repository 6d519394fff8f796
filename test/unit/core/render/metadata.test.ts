import { describe, expect, it } from 'vitest';
import {
  canonicalName,
  canonicalRevision,
  imageVersion,
  ownerUri,
  podPortsEnvValue,
  truncateLabelValue,
} from '../../../../src/core/render/metadata.js';
import type { Container } from '../../../../src/core/pod-types.js';

describe('canonical service labels', () => {
  it.each([
    [{ 'service.istio.io/canonical-name': 'a', 'app.kubernetes.io/name': 'b', app: 'c' }, 'a'],
    [{ 'service.istio.io/canonical-name': '', 'app.kubernetes.io/name': 'b', app: 'c' }, 'b'],
    [{ app: 'c' }, 'c'],
    [{}, 'workload'],
  ])('name from %j is %j', (labels, want) => {
    expect(canonicalName(labels, 'workload')).toBe(want);
  });

  it.each([
    [
      {
        'service.istio.io/canonical-revision': 'r1',
        'app.kubernetes.io/version': 'v2',
        version: 'v3',
      },
      'r1',
    ],
    [{ 'app.kubernetes.io/version': 'v2', version: 'v3' }, 'v2'],
    [{ version: 'v3' }, 'v3'],
    [{}, 'latest'],
  ])('revision from %j is %j', (labels, want) => {
    expect(canonicalRevision(labels)).toBe(want);
  });

  it.each([
    ['short', 'short'],
    [
      'helloworld-helloworld-helloworld-helloworld-helloworld-helloworld',
      'helloworld-helloworld-helloworld-helloworld-helloworld-hellowor',
    ],
    [
      'helloworld-helloworld-helloworld-helloworld-helloworld-hellowo-ld',
      'helloworld-helloworld-helloworld-helloworld-helloworld-hellowo',
    ],
    ['-_.trimmed._-', 'trimmed'],
    [`${'a'.repeat(62)}.x`, 'a'.repeat(62)],
  ])('truncates %j to %j', (value, want) => {
    expect(truncateLabelValue(value)).toBe(want);
    expect(truncateLabelValue(value).length).toBeLessThanOrEqual(63);
  });
});

describe('ISTIO_META_POD_PORTS', () => {
  it.each<[string, Container[], string]>([
    ['no ports', [{ name: 'a' }], '[\n]'],
    [
      'one port',
      [{ name: 'a', ports: [{ name: 'http', containerPort: 80 }] }],
      '[\n    {"name":"http","containerPort":80}\n]',
    ],
    [
      'two containers, comma-prefixed continuation',
      [
        { name: 'a', ports: [{ name: 'http', containerPort: 80 }] },
        { name: 'b', ports: [{ name: 'http', containerPort: 90 }] },
      ],
      '[\n    {"name":"http","containerPort":80}\n    ,{"name":"http","containerPort":90}\n]',
    ],
    [
      'Go field order, zero values omitted, all protocols',
      [
        {
          name: 'a',
          ports: [
            { hostIP: '10.0.0.1', protocol: 'UDP', containerPort: 53, hostPort: 5353, name: 'dns' },
            { containerPort: 8080, protocol: 'TCP', name: '', hostPort: 0 },
          ],
        },
      ],
      '[\n    {"name":"dns","hostPort":5353,"containerPort":53,"protocol":"UDP","hostIP":"10.0.0.1"}\n    ,{"containerPort":8080,"protocol":"TCP"}\n]',
    ],
  ])('%s', (_name, containers, want) => {
    expect(podPortsEnvValue(containers)).toBe(want);
  });
});

describe('owner and image version', () => {
  it.each([
    [
      { kind: 'Deployment', apiVersion: 'apps/v1' },
      { name: 'hello', namespace: 'test' },
      'kubernetes://apis/apps/v1/namespaces/test/deployments/hello',
    ],
    [
      { kind: 'Pod', apiVersion: 'v1' },
      { name: 'x', namespace: '' },
      'kubernetes://apis/v1/namespaces/default/pods/x',
    ],
    [{ kind: 'Pod', apiVersion: '' }, { name: 'x', namespace: '' }, undefined],
    [{ kind: 'Pod', apiVersion: 'v1' }, { name: '', namespace: '' }, undefined],
  ])('owner of %j %j', (typeMeta, deploymentMeta, want) => {
    expect(ownerUri({ typeMeta, deploymentMeta })).toBe(want);
  });

  it.each([
    ['repo/app:1.2', '1.2'],
    ['registry:5000/repo/app:1.2', '1.2'],
    ['registry:5000/repo/app', ''],
    ['repo/app@sha256:abc', 'sha256:abc'],
    ['repo/app:1.2@sha256:abc', '1.2@sha256:abc'],
  ])('version of %j is %j', (image, want) => {
    expect(imageVersion(image)).toBe(want);
  });
});

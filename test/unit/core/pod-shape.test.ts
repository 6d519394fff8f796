import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkPodShape, podShapeIsValid, podShapeProblems } from '../../../src/core/pod-shape.js';
import { PAYLOADS_DIR } from '../../helpers/shared.js';

const app = { name: 'app', image: 'app:1' };
const pod = (metadata: unknown, spec: unknown = { containers: [app] }): unknown => ({
  metadata,
  spec,
});

describe('checkPodShape', () => {
  it.each<[string, unknown, string, string]>([
    ['not an object', 'pod', 'request.object', 'expected a Pod object'],
    ['metadata a string', pod('web'), 'request.object.metadata', 'expected an object'],
    [
      'a label value a number',
      pod({ labels: { app: 5 } }),
      'request.object.metadata.labels[app]',
      'expected a string',
    ],
    [
      'annotations a list',
      pod({ annotations: ['a'] }),
      'request.object.metadata.annotations',
      'expected a map of strings',
    ],
    [
      'ownerReferences a map',
      pod({ ownerReferences: { kind: 'ReplicaSet' } }),
      'request.object.metadata.ownerReferences',
      'expected a list',
    ],
    [
      'an owner kind a number',
      pod({ ownerReferences: [{ kind: 7 }] }),
      'request.object.metadata.ownerReferences[0].kind',
      'expected a string',
    ],
    ['spec a list', pod({}, []), 'request.object.spec', 'expected an object'],
    [
      'containers a map',
      pod({}, { containers: { app } }),
      'request.object.spec.containers',
      'expected a list',
    ],
    [
      'a container without a name',
      pod({}, { containers: [{ image: 'x' }] }),
      'request.object.spec.containers[0].name',
      'a container needs a name',
    ],
    [
      'args with a number',
      pod({}, { containers: [{ ...app, args: ['a', 1] }] }),
      'request.object.spec.containers[0].args',
      'expected a list of strings',
    ],
    [
      'a port number as text',
      pod({}, { containers: [{ ...app, ports: [{ containerPort: '80' }] }] }),
      'request.object.spec.containers[0].ports[0].containerPort',
      'expected a number',
    ],
    [
      'an env entry a string',
      pod({}, { initContainers: [{ ...app, env: ['A=1'] }] }),
      'request.object.spec.initContainers[0].env[0]',
      'expected an object',
    ],
    [
      'a probe a string',
      pod({}, { containers: [{ ...app, readinessProbe: '/healthz' }] }),
      'request.object.spec.containers[0].readinessProbe',
      'expected an object',
    ],
    [
      'hostNetwork a string',
      pod({}, { containers: [app], hostNetwork: 'true' }),
      'request.object.spec.hostNetwork',
      'expected a boolean',
    ],
    [
      'volumes a string',
      pod({}, { containers: [app], volumes: 'data' }),
      'request.object.spec.volumes',
      'expected a list',
    ],
  ])('%s is reported by field', (_name, input, field, reason) => {
    const error = checkPodShape(input, 'request.object');
    expect(error?.code).toBe('INJ_ERR_INVALID_POD');
    expect(error?.details).toContainEqual(expect.objectContaining({ field, reason }));
    expect(error?.message).toContain(field);
  });

  it('reports every problem at once', () => {
    const error = checkPodShape(
      pod({ labels: { a: 1 } }, { containers: [{ image: 'x' }], hostNetwork: 1 }),
      'pod',
    );
    expect(error?.details.map((d) => d.field)).toEqual([
      'pod.metadata.labels[a]',
      'pod.spec.hostNetwork',
      'pod.spec.containers[0].name',
    ]);
  });

  it.each<[string, unknown]>([['an empty pod', {}]])('accepts %s', (_name, input) => {
    expect(checkPodShape(input, 'pod')).toBeUndefined();
  });

  it('refuses null anywhere it checks, naming each field (the API server never sends null)', () => {
    const error = checkPodShape(
      pod(
        { labels: null, annotations: { a: null } },
        {
          dnsPolicy: null,
          containers: [{ ...app, env: null, ports: [null] }],
          initContainers: null,
        },
      ),
      'pod',
    );
    expect(error?.code).toBe('INJ_ERR_INVALID_POD');
    expect(error?.details.map((d) => d.field)).toEqual([
      'pod.metadata.labels',
      'pod.metadata.annotations[a]',
      'pod.spec.dnsPolicy',
      'pod.spec.containers[0].ports[0]',
      'pod.spec.containers[0].env',
      'pod.spec.initContainers',
    ]);
    for (const whole of [{ metadata: null }, { spec: null }]) {
      expect(checkPodShape(whole, 'pod')?.details[0]?.value).toBe('null');
    }
  });

  it('accepts every realistic payload pod', async () => {
    const index = JSON.parse(await readFile(join(PAYLOADS_DIR, 'index.json'), 'utf8')) as {
      file: string;
    }[];
    expect(index.length).toBeGreaterThan(0);
    for (const { file } of index) {
      const review = JSON.parse(await readFile(join(PAYLOADS_DIR, file), 'utf8')) as {
        request: { object: unknown };
      };
      expect(checkPodShape(review.request.object, file)).toBeUndefined();
    }
  });
});

describe('the allocation-free check agrees with the full one', () => {
  // A field the check reads, with a value of the right or a wrong JSON type.
  const anyValue = fc.oneof(
    fc.string({ maxLength: 4 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.constant(null)), {
      maxLength: 3,
    }),
    fc.dictionary(
      fc.constantFrom('a', 'b', 'name'),
      fc.oneof(fc.string({ maxLength: 3 }), fc.integer()),
      {
        maxKeys: 3,
      },
    ),
  );
  const object = (keys: readonly string[]) =>
    fc.dictionary(fc.constantFrom(...keys), anyValue, { maxKeys: keys.length });
  const list = (item: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 4, arbitrary: fc.array(item, { maxLength: 3 }) }, anyValue);
  const container = fc
    .record(
      {
        name: fc.oneof({ weight: 6, arbitrary: fc.string({ maxLength: 4 }) }, anyValue),
        ports: list(object(['name', 'containerPort', 'hostPort', 'protocol', 'hostIP'])),
        env: list(object(['name', 'value', 'valueFrom'])),
        volumeMounts: list(object(['name', 'mountPath'])),
      },
      { requiredKeys: ['name'] },
    )
    .chain((c) =>
      object(['image', 'args', 'command', 'resources', 'restartPolicy']).map((o) => ({
        ...o,
        ...c,
      })),
    );
  const pods = fc.oneof(
    { weight: 1, arbitrary: anyValue },
    {
      weight: 9,
      arbitrary: fc.record(
        {
          metadata: fc.oneof(
            {
              weight: 5,
              arbitrary: object(['name', 'generateName', 'namespace', 'labels', 'annotations']),
            },
            anyValue,
          ),
          spec: fc.oneof(
            {
              weight: 5,
              arbitrary: fc.record(
                {
                  containers: list(container),
                  initContainers: list(container),
                  volumes: list(object(['name'])),
                  hostNetwork: anyValue,
                  serviceAccountName: anyValue,
                },
                { requiredKeys: [] },
              ),
            },
            anyValue,
          ),
        },
        { requiredKeys: [] },
      ),
    },
  );

  it('valid exactly when the full check finds no problem', () => {
    let valid = 0;
    fc.assert(
      fc.property(pods, (p) => {
        const ok = podShapeIsValid(p);
        if (ok) valid++;
        expect(ok).toBe(podShapeProblems(p, 'request.object').length === 0);
        expect(checkPodShape(p, 'request.object') === undefined).toBe(ok);
      }),
      { numRuns: 5000, seed: 14 },
    );
    // Both sides are exercised.
    expect(valid).toBeGreaterThan(200);
    expect(valid).toBeLessThan(4800);
  });
});

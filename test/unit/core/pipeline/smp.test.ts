import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../../../src/core/json.js';
import { CONTAINER_SCHEMA, POD_SCHEMA, strategicMerge } from '../../../../src/core/pipeline/smp.js';

const names = (list: unknown): string[] => (list as { name: string }[]).map((i) => i.name);

describe('strategicMerge for Pod', () => {
  it.each<[string, JsonObject, JsonObject, JsonObject]>([
    [
      'maps merge key by key',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { b: '3', c: '4' } } },
      { metadata: { labels: { a: '1', b: '3', c: '4' } } },
    ],
    [
      'null deletes a key',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { a: null } } },
      { metadata: { labels: { b: '2' } } },
    ],
    [
      'null for an absent key is dropped',
      { spec: {} },
      { spec: { volumes: [{ name: 'v', emptyDir: null }] } },
      { spec: { volumes: [{ name: 'v' }] } },
    ],
    [
      '$patch: replace replaces the map',
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { $patch: 'replace', foo: 'bar' } } },
      { metadata: { labels: { foo: 'bar' } } },
    ],
    [
      '$patch: delete removes the map',
      { spec: { securityContext: { fsGroup: 1 } } },
      { spec: { securityContext: { $patch: 'delete' } } },
      { spec: {} },
    ],
    [
      'lists without merge key are replaced',
      { spec: { containers: [{ name: 'c', args: ['a', 'b'] }] } },
      { spec: { containers: [{ name: 'c', args: ['x'] }] } },
      { spec: { containers: [{ name: 'c', args: ['x'] }] } },
    ],
    [
      'env merges by name',
      {
        spec: {
          containers: [
            {
              name: 'c',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '2' },
              ],
            },
          ],
        },
      },
      { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '3' }] }] } },
      {
        spec: {
          containers: [
            {
              name: 'c',
              env: [
                { name: 'A', value: '1' },
                { name: 'B', value: '3' },
              ],
            },
          ],
        },
      },
    ],
    [
      'volumeMounts merge by mountPath',
      { spec: { containers: [{ name: 'c', volumeMounts: [{ name: 'a', mountPath: '/a' }] }] } },
      {
        spec: {
          containers: [
            { name: 'c', volumeMounts: [{ name: 'b', mountPath: '/a', readOnly: true }] },
          ],
        },
      },
      {
        spec: {
          containers: [
            { name: 'c', volumeMounts: [{ name: 'b', mountPath: '/a', readOnly: true }] },
          ],
        },
      },
    ],
    [
      'ports merge by containerPort',
      { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }] }] } },
      { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }] }] } },
      {
        spec: {
          containers: [
            { name: 'c', ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }] },
          ],
        },
      },
    ],
    [
      '$patch: delete on a list element removes it',
      { spec: { volumes: [{ name: 'a' }, { name: 'b' }] } },
      { spec: { volumes: [{ name: 'a', $patch: 'delete' }] } },
      { spec: { volumes: [{ name: 'b' }] } },
    ],
    [
      '$patch: replace inside a list replaces the list',
      { spec: { volumes: [{ name: 'a' }] } },
      { spec: { volumes: [{ $patch: 'replace' }, { name: 'b' }] } },
      { spec: { volumes: [{ name: 'b' }] } },
    ],
    [
      '$retainKeys keeps only the listed keys',
      { spec: { volumes: [{ name: 'a', emptyDir: {} }] } },
      {
        spec: {
          volumes: [{ name: 'a', $retainKeys: ['name', 'configMap'], configMap: { name: 'x' } }],
        },
      },
      { spec: { volumes: [{ name: 'a', configMap: { name: 'x' } }] } },
    ],
    [
      'an empty merge list keeps the original elements',
      { spec: { initContainers: [{ name: 'one' }] } },
      { spec: { initContainers: [] } },
      { spec: { initContainers: [{ name: 'one' }] } },
    ],
  ])('%s', (_name, original, patch, want) => {
    expect(strategicMerge(original, patch, POD_SCHEMA)).toEqual(want);
  });

  it('puts new patch elements before original-only ones (template items first)', () => {
    const merged = strategicMerge(
      { spec: { imagePullSecrets: [{ name: 'fooSecret' }], containers: [{ name: 'app' }] } },
      {
        spec: { imagePullSecrets: [{ name: 'barSecret' }], containers: [{ name: 'istio-proxy' }] },
      },
    );
    expect(names(merged?.spec && (merged.spec as JsonObject).imagePullSecrets)).toEqual([
      'barSecret',
      'fooSecret',
    ]);
    expect(names((merged?.spec as JsonObject).containers)).toEqual(['istio-proxy', 'app']);
  });

  it('keeps original-only elements at their position relative to merged ones', () => {
    const merged = strategicMerge(
      { spec: { volumes: [{ name: 'a' }, { name: 'x' }, { name: 'b' }, { name: 'y' }] } },
      { spec: { volumes: [{ name: 'new' }, { name: 'b' }, { name: 'a' }] } },
    );
    // Patch elements in patch order (new, b, a); x and y are taken as soon as they precede the
    // next patch element in the original order: x (1) before b (2), y (3) after a.
    expect(names((merged?.spec as JsonObject).volumes)).toEqual(['new', 'x', 'b', 'a', 'y']);
  });

  it('never mutates its inputs', () => {
    const original: JsonObject = {
      metadata: { labels: { a: '1' } },
      spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] },
    };
    const patch: JsonObject = {
      metadata: { labels: { a: null } },
      spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '2' }] }] },
    };
    const before = structuredClone([original, patch]);
    strategicMerge(original, patch);
    expect([original, patch]).toEqual(before);
  });

  it('merges one container over another with the container schema', () => {
    const merged = strategicMerge(
      {
        name: 'istio-proxy',
        image: 'proxy',
        env: [{ name: 'A', value: '1' }],
        securityContext: { runAsUser: 1337, runAsNonRoot: true },
      },
      {
        name: 'istio-proxy',
        env: [{ name: 'B', value: '2' }],
        securityContext: { runAsUser: 1234 },
      },
      CONTAINER_SCHEMA,
    );
    expect(merged).toEqual({
      name: 'istio-proxy',
      image: 'proxy',
      env: [
        { name: 'B', value: '2' },
        { name: 'A', value: '1' },
      ],
      securityContext: { runAsUser: 1234, runAsNonRoot: true },
    });
  });
});

describe('strategicMerge of subtrees the original does not have', () => {
  // Each patch adds a subtree to an empty pod; the result must be what applying every rule to it
  // gives, whether or not the subtree is used as is.
  it.each<[string, JsonObject, JsonObject]>([
    [
      'a plain subtree is taken as is',
      { spec: { volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }], hostNetwork: false } },
      { spec: { volumes: [{ name: 'v', emptyDir: { medium: 'Memory' } }], hostNetwork: false } },
    ],
    [
      'a null deep inside a new subtree is dropped',
      { spec: { volumes: [{ name: 'v', emptyDir: null }] } },
      { spec: { volumes: [{ name: 'v' }] } },
    ],
    [
      // The API machinery takes a list the original lacks from the patch as is (strategicpatch
      // mergeMap → removeDirectives): elements sharing a merge key all stay.
      'new list elements sharing a merge key are all kept, in patch order',
      {
        spec: {
          containers: [
            { name: 'c', image: 'a' },
            { name: 'c', args: ['x'] },
          ],
        },
      },
      {
        spec: {
          containers: [
            { name: 'c', image: 'a' },
            { name: 'c', args: ['x'] },
          ],
        },
      },
    ],
    [
      'a $patch: delete element of a new list is dropped',
      { spec: { volumes: [{ name: 'a' }, { name: 'b', $patch: 'delete' }] } },
      { spec: { volumes: [{ name: 'a' }] } },
    ],
    [
      '$retainKeys in a new map keeps only the listed keys',
      { spec: { securityContext: { runAsUser: 1, fsGroup: 2, $retainKeys: ['fsGroup'] } } },
      { spec: { securityContext: { fsGroup: 2 } } },
    ],
    [
      '$setElementOrder in a new container is dropped',
      {
        spec: {
          containers: [
            {
              name: 'c',
              env: [{ name: 'A', value: '1' }],
              '$setElementOrder/env': [{ name: 'A' }],
            },
          ],
        },
      },
      { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] } },
    ],
    [
      'elements of a replaced (unkeyed) list are cleaned too',
      { spec: { tolerations: [{ key: 'k', value: null, effect: 'NoSchedule' }, { key: 'j' }] } },
      { spec: { tolerations: [{ key: 'k', effect: 'NoSchedule' }, { key: 'j' }] } },
    ],
    [
      'a new element without its merge key keeps its place',
      { spec: { volumes: [{ emptyDir: {} }, { name: 'a' }] } },
      { spec: { volumes: [{ emptyDir: {} }, { name: 'a' }] } },
    ],
    [
      '$retainKeys dropping the merge key of a new element keeps its place',
      {
        spec: { volumes: [{ name: 'a', emptyDir: {}, $retainKeys: ['emptyDir'] }, { name: 'b' }] },
      },
      { spec: { volumes: [{ emptyDir: {} }, { name: 'b' }] } },
    ],
  ])('%s', (_name, patch, expected) => {
    const before = structuredClone(patch);
    expect(strategicMerge({}, patch)).toEqual(expected);
    expect(patch).toEqual(before);
  });

  it('shares a plain new subtree with the patch instead of copying it', () => {
    const volume = { name: 'v', emptyDir: { medium: 'Memory' } };
    const proxy = { name: 'istio-proxy', env: [{ name: 'A', value: '1' }] };
    const merged = strategicMerge(
      { spec: { containers: [{ name: 'app' }] } },
      { spec: { volumes: [volume], containers: [proxy] } },
    );
    const spec = merged?.spec as { volumes: unknown[]; containers: unknown[] };
    expect(spec.volumes[0]).toBe(volume);
    // Patch elements come first: the new proxy, then the original app container.
    expect(spec.containers[0]).toBe(proxy);
  });
});

describe('strategicMerge of containers repeating an env name', () => {
  // Expected lists are what k8s.io/apimachinery's strategic merge (as Istio's injector calls it,
  // pkg/kube/inject/webhook.go applyOverlayYAML) yields: a list new to the original is taken as
  // is; a list merged into an existing one matches each patch element against the first element
  // of that name so far, including elements the patch itself appended.
  const dns = (value: string): JsonObject => ({ name: 'ISTIO_META_DNS_CAPTURE', value });
  /** A pod whose container `app` repeats the env name X. */
  const appRepeatingX = {
    spec: {
      containers: [
        {
          name: 'app',
          env: [
            { name: 'X', value: '1' },
            { name: 'X', value: '2' },
          ],
        },
      ],
    },
  };

  it.each<[string, JsonObject, JsonObject, JsonObject[]]>([
    [
      'a new container keeps both entries of a repeated name (proxyMetadata, then the template)',
      { spec: { containers: [{ name: 'app' }] } },
      {
        spec: {
          containers: [{ name: 'istio-proxy', env: [dns('true'), { name: 'B' }, dns('false')] }],
        },
      },
      [dns('true'), { name: 'B' }, dns('false')],
    ],
    [
      'a pod container without env keeps both entries the patch repeats',
      { spec: { containers: [{ name: 'istio-proxy', image: 'auto' }] } },
      { spec: { containers: [{ name: 'istio-proxy', env: [dns('true'), dns('false')] }] } },
      [dns('true'), dns('false')],
    ],
    [
      'a pod container with an empty env list is the same as one without',
      { spec: { containers: [{ name: 'istio-proxy', env: [] }] } },
      { spec: { containers: [{ name: 'istio-proxy', env: [dns('true'), dns('false')] }] } },
      [dns('true'), dns('false')],
    ],
    [
      'a repeated name merged into an existing env list becomes one entry, the last value',
      { spec: { containers: [{ name: 'istio-proxy', env: [{ name: 'A', value: '1' }] }] } },
      { spec: { containers: [{ name: 'istio-proxy', env: [dns('true'), dns('false')] }] } },
      [dns('false'), { name: 'A', value: '1' }],
    ],
    [
      'a pod container repeating a name keeps both when the patch adds another name',
      appRepeatingX,
      { spec: { containers: [{ name: 'app', env: [{ name: 'Y', value: 'y' }] }] } },
      [
        { name: 'Y', value: 'y' },
        { name: 'X', value: '1' },
        { name: 'X', value: '2' },
      ],
    ],
    [
      'a patch naming a name the pod repeats merges into its first entry only',
      appRepeatingX,
      { spec: { containers: [{ name: 'app', env: [{ name: 'X', value: '3' }] }] } },
      [
        { name: 'X', value: '3' },
        { name: 'X', value: '2' },
      ],
    ],
  ])('%s', (_name, original, patch, expected) => {
    const merged = strategicMerge(original, patch) as { spec: { containers: JsonObject[] } };
    const container = merged.spec.containers.find(
      (c) => c.name === (patch.spec as { containers: JsonObject[] }).containers[0]?.name,
    );
    expect(container?.env).toEqual(expected);
  });
});

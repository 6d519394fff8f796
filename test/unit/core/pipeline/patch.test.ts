import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Operation } from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import { deepFreeze } from '../../../../src/core/config/merge.js';
import { decide } from '../../../../src/core/decide.js';
import { inject } from '../../../../src/core/inject.js';
import type { JsonValue } from '../../../../src/core/json.js';
import type { Pod } from '../../../../src/core/pod-types.js';
import { applyPatchStrict, PatchApplyError } from '../../../../src/core/patch/apply-strict.js';
import { createSubtreePatch, diffValues } from '../../../../src/core/patch/diff.js';
import { escapeSegment, parsePointer, toPointer } from '../../../../src/core/patch/pointer.js';
import { getPodTemplate, listWorkloads } from '../../../../src/core/pod-template.js';
import { CORPUS_DIR } from '../../../helpers/shared.js';
import { generatePod } from '../../../helpers/generated-pods.js';

const touched = [
  ['metadata', 'labels'],
  ['metadata', 'annotations'],
  ['spec', 'initContainers'],
  ['spec', 'containers'],
  ['spec', 'volumes'],
];

describe('JSON pointer escaping', () => {
  it.each([
    ['sidecar.istio.io/status', 'sidecar.istio.io~1status'],
    ['a~b', 'a~0b'],
    ['~/', '~0~1'],
    ['plain', 'plain'],
  ])('%s -> %s', (raw, escaped) => {
    expect(escapeSegment(raw)).toBe(escaped);
    expect(parsePointer(toPointer(['metadata', raw]))).toEqual(['metadata', raw]);
  });
});

describe('createSubtreePatch', () => {
  it.each<[string, Pod, Pod, Operation[]]>([
    [
      'missing annotations map is added whole',
      { metadata: { name: 'p' } },
      { metadata: { name: 'p', annotations: { 'a/b': 'x', 'c~d': 'y' } } },
      [{ op: 'add', path: '/metadata/annotations', value: { 'a/b': 'x', 'c~d': 'y' } }],
    ],
    [
      'missing metadata is added whole once',
      { spec: {} },
      { metadata: { labels: { a: '1' }, annotations: { b: '2' } }, spec: {} },
      [{ op: 'add', path: '/metadata', value: { labels: { a: '1' }, annotations: { b: '2' } } }],
    ],
    [
      'keys with / and ~ are escaped',
      { metadata: { annotations: { 'x/y': '1' } } },
      { metadata: { annotations: { 'x/y': '2', 'p~q': '3' } } },
      [
        { op: 'replace', path: '/metadata/annotations/x~1y', value: '2' },
        { op: 'add', path: '/metadata/annotations/p~0q', value: '3' },
      ],
    ],
    [
      'pod with no initContainers gets the list whole',
      { spec: { containers: [{ name: 'app' }] } },
      { spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'istio-init' }] } },
      [{ op: 'add', path: '/spec/initContainers', value: [{ name: 'istio-init' }] }],
    ],
    [
      'array removals go from the highest index down',
      { spec: { volumes: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } },
      { spec: { volumes: [{ name: 'a' }] } },
      [
        { op: 'remove', path: '/spec/volumes/2' },
        { op: 'remove', path: '/spec/volumes/1' },
      ],
    ],
    [
      'no change, no operation',
      { metadata: { labels: { a: '1' } } },
      { metadata: { labels: { a: '1' } } },
      [],
    ],
    [
      'removed key',
      { metadata: { labels: { a: '1', b: '2' } } },
      { metadata: { labels: { a: '1' } } },
      [{ op: 'remove', path: '/metadata/labels/b' }],
    ],
  ])('%s', (_name, before, after, want) => {
    const ops = createSubtreePatch(before, after, touched);
    expect(ops).toEqual(want);
    expect(applyPatchStrict(before, ops)).toEqual(after);
  });

  it('ignores subtrees it was not asked about', () => {
    const ops = createSubtreePatch(
      { metadata: { name: 'a' }, spec: { nodeName: 'x' } },
      { metadata: { name: 'b' }, spec: { nodeName: 'y' } },
      touched,
    );
    expect(ops).toEqual([]);
  });

  it('diffs arrays by index, appending new elements', () => {
    const ops: Operation[] = [];
    diffValues([1, 2], [1, 3, 4], ['x'], ops);
    expect(ops).toEqual([
      { op: 'replace', path: '/x/1', value: 3 },
      { op: 'add', path: '/x/2', value: 4 },
    ]);
  });

  it('adds elements inserted in front of kept ones instead of rewriting by index', () => {
    const user = { name: 'user-init', image: 'busybox', args: ['a'] };
    const changedUser = { ...user, args: ['b'] };
    const injected = [{ name: 'istio-init' }, { name: 'istio-proxy' }];
    const before = { initContainers: [user] };
    const after = { initContainers: [...injected, changedUser] };
    const ops: Operation[] = [];
    diffValues(before, after, ['spec'], ops);
    expect(ops).toEqual([
      { op: 'add', path: '/spec/initContainers/0', value: injected[0] },
      { op: 'add', path: '/spec/initContainers/1', value: injected[1] },
      { op: 'replace', path: '/spec/initContainers/2/args/0', value: 'b' },
    ]);
    expect(applyPatchStrict({ spec: before }, ops)).toEqual({ spec: after });
  });

  it.each<[string, JsonValue[], JsonValue[]]>([
    [
      'kept elements reordered',
      [{ name: 'a' }, { name: 'b' }],
      [{ name: 'c' }, { name: 'b' }, { name: 'a' }],
    ],
    ['an element removed', [{ name: 'a' }, { name: 'b' }], [{ name: 'c' }, { name: 'a' }]],
    ['unnamed elements changed', [{ v: 1 }], [{ v: 0 }, { v: 2 }]],
  ])(
    'falls back to index order when the list did not only gain elements: %s',
    (_n, before, after) => {
      const ops: Operation[] = [];
      diffValues({ l: before }, { l: after }, [], ops);
      expect(ops.some((op) => op.op === 'replace' || op.op === 'remove')).toBe(true);
      expect(applyPatchStrict({ l: before }, ops)).toEqual({ l: after });
    },
  );
});

describe('applyPatchStrict', () => {
  it.each<[string, JsonValue, Operation[]]>([
    [
      'add under a missing parent',
      { metadata: {} },
      [{ op: 'add', path: '/metadata/annotations/a', value: 'x' }],
    ],
    ['add at an index past the end', { a: [1] }, [{ op: 'add', path: '/a/2', value: 3 }]],
    ['replace at an index out of range', { a: [1] }, [{ op: 'replace', path: '/a/1', value: 3 }]],
    ['remove of a missing key', { a: {} }, [{ op: 'remove', path: '/a/b' }]],
    ['replace of a missing key', { a: {} }, [{ op: 'replace', path: '/a/b', value: 1 }]],
    ['remove of a missing index', { a: [] }, [{ op: 'remove', path: '/a/0' }]],
    ['a non-numeric array index', { a: [1] }, [{ op: 'replace', path: '/a/x', value: 1 }]],
  ])('rejects %s', (_name, doc, ops) => {
    expect(() => applyPatchStrict(doc, ops)).toThrow(PatchApplyError);
  });

  it('applies valid operations without mutating the input', () => {
    const doc = {
      metadata: { annotations: { 'a/b': '1' } },
      spec: { containers: [{ name: 'x' }] },
    };
    const before = structuredClone(doc);
    const out = applyPatchStrict(doc, [
      { op: 'replace', path: '/metadata/annotations/a~1b', value: '2' },
      { op: 'add', path: '/spec/containers/-', value: { name: 'y' } },
      { op: 'add', path: '/spec/containers/0', value: { name: 'w' } },
      { op: 'remove', path: '/spec/containers/1' },
    ]);
    expect(doc).toEqual(before);
    expect(out).toEqual({
      metadata: { annotations: { 'a/b': '2' } },
      spec: { containers: [{ name: 'w' }, { name: 'y' }] },
    });
  });
});

/** Every pod template of the corpus inputs, for the property-style round trip. */
function corpusPods(): [string, Pod][] {
  const out: [string, Pod][] = [];
  for (const file of readdirSync(CORPUS_DIR)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.iop.yaml'))
    .sort()) {
    const docs = parseAllDocuments(readFileSync(join(CORPUS_DIR, file), 'utf8')).map(
      (d) => d.toJS() as JsonValue,
    );
    docs
      .flatMap((d) => listWorkloads(d))
      .forEach((w, i) => out.push([`${file}#${i}`, structuredClone(getPodTemplate(w))]));
  }
  return out;
}

describe('patch round trip over the corpus', () => {
  const config = defaultInjectionConfig();
  it.each(corpusPods())('%s: patch applied to the input gives the injected pod', (_name, pod) => {
    const decision = decide({
      pod,
      namespace: 'default',
      injector: config.injector,
      mode: 'webhook',
    });
    if (!decision.inject) return;
    const before = structuredClone(pod);
    // Frozen: any write to the input (or to a subtree shared with the output) throws.
    deepFreeze(pod);
    let out;
    try {
      out = inject({
        pod,
        namespace: 'default',
        config,
        cluster: { nativeSidecars: true },
        mode: 'webhook',
      });
    } catch (err) {
      // Invalid annotations, and templates only defined by a case's own configuration, are refused.
      expect(['INJ_ERR_INVALID_ANNOTATION', 'INJ_ERR_TEMPLATE_NOT_FOUND']).toContain(
        (err as { code?: string }).code,
      );
      return;
    }
    expect(pod).toEqual(before);
    expect(out.patch.length).toBeGreaterThan(0);
    expect(applyPatchStrict(pod, out.patch)).toEqual(out.pod);
  });
});

describe('applyPatchStrict on a pod read from YAML with anchors and aliases', () => {
  /** The pod with every container's env list shared with the first container that has one. */
  function aliased(pod: Pod): Pod {
    const copy = JSON.parse(JSON.stringify(pod)) as Pod;
    const all = [...(copy.spec?.initContainers ?? []), ...(copy.spec?.containers ?? [])];
    const shared = all.find((c) => Array.isArray(c.env))?.env;
    if (shared !== undefined) for (const c of all) if (Array.isArray(c.env)) c.env = shared;
    return copy;
  }

  it('patches the tree the API server would decode: shared lists are not changed twice (generated)', () => {
    const config = defaultInjectionConfig();
    let sharedSeen = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const pod = aliased(generatePod(seed));
      const tree = JSON.parse(JSON.stringify(pod)) as Pod;
      let out;
      try {
        out = inject({
          pod,
          namespace: 'default',
          config,
          cluster: { nativeSidecars: false },
          mode: 'kube-inject',
        });
      } catch {
        continue;
      }
      const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
      if (all.filter((c) => Array.isArray(c.env)).length > 1) sharedSeen++;
      expect(JSON.stringify(applyPatchStrict(pod, out.patch))).toBe(
        JSON.stringify(applyPatchStrict(tree, out.patch)),
      );
      expect(applyPatchStrict(pod, out.patch)).toEqual(out.pod);
    }
    expect(sharedSeen).toBeGreaterThan(15);
  });
});

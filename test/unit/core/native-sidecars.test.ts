import { describe, expect, it } from 'vitest';
import {
  detectNativeSidecars,
  kubeletMinor,
  nativeSidecarModeFromSetting,
  nativeSidecarsForPod,
  type NativeSidecarMode,
} from '../../../src/core/native-sidecars.js';
import { loadCases } from './decide-cases.js';

const MODE: Record<string, NativeSidecarMode> = {
  true: 'enabled',
  false: 'disabled',
  auto: 'auto',
};

describe('detectNativeSidecars: Istio TestDetectNativeSidecar table', () => {
  const cases = loadCases().webhookTests.TestDetectNativeSidecar.cases;
  it.each(cases.map((c) => [c.mode, c.kubeletVersions.join(' '), c] as const))(
    'mode %s nodes %s',
    (_mode, _versions, c) => {
      const nodes = c.kubeletVersions.map((v, i) => ({
        name: `node-${i}`,
        // "(one node with empty kubeletVersion)" in the table stands for an empty version.
        kubeletVersion: v.startsWith('(') ? '' : v,
      }));
      const mode = MODE[c.mode];
      expect(mode).toBeDefined();
      expect(detectNativeSidecars(mode ?? 'auto', nodes)).toBe(c.want);
    },
  );
});

describe('detectNativeSidecars: more cases', () => {
  const n = (name: string, kubeletVersion?: string) => ({ name, kubeletVersion });
  const cases: [string, NativeSidecarMode, ReturnType<typeof n>[], string | undefined, boolean][] =
    [
      ['no nodes known', 'auto', [], undefined, false],
      ['v-prefixed versions', 'auto', [n('a', 'v1.33.0'), n('b', 'v1.34.2')], undefined, true],
      ['vendor suffix', 'auto', [n('a', 'v1.33.1-eks-1234')], undefined, true],
      ['major ignored', 'auto', [n('a', '2.33.0')], undefined, true],
      ['missing version', 'auto', [n('a')], undefined, false],
      ['garbage version', 'auto', [n('a', 'latest')], undefined, false],
      [
        'bound to a new node in a mixed cluster',
        'auto',
        [n('a', '1.33.0'), n('b', '1.28.0')],
        'a',
        true,
      ],
      ['bound to an old node', 'auto', [n('a', '1.33.0'), n('b', '1.28.0')], 'b', false],
      [
        'bound to an unknown node: all nodes count',
        'auto',
        [n('a', '1.33.0'), n('b', '1.28.0')],
        'zz',
        false,
      ],
      ['enabled ignores nodes', 'enabled', [], undefined, true],
      ['disabled ignores nodes', 'disabled', [n('a', '1.40.0')], undefined, false],
    ];
  it.each(cases)('%s', (_name, mode, nodes, nodeName, want) => {
    expect(detectNativeSidecars(mode, nodes, nodeName)).toBe(want);
  });

  it.each([
    ['v1.33.0', 33],
    ['1.28', 28],
    ['v1.34.0+k3s1', 34],
    ['', undefined],
    ['v1', undefined],
  ])('kubeletMinor(%j) = %j', (version, want) => {
    expect(kubeletMinor(version)).toBe(want);
  });
});

describe('nativeSidecarModeFromSetting', () => {
  it.each([
    [undefined, 'auto', false],
    ['', 'auto', false],
    ['auto', 'auto', false],
    ['true', 'enabled', false],
    ['false', 'disabled', false],
    ['TRUE', 'disabled', true],
    ['yes', 'disabled', true],
  ] as const)('%j -> %s', (setting, mode, warns) => {
    const result = nativeSidecarModeFromSetting(setting);
    expect(result.mode).toBe(mode);
    expect(result.warning !== undefined).toBe(warns);
    if (warns) expect(result.warning).toContain(setting);
  });
});

describe('nativeSidecarsForPod', () => {
  it.each([
    [true, undefined, true],
    [false, undefined, false],
    [false, 'true', true],
    [true, 'false', false],
    [true, 'True', true],
    [false, 'yes', false],
    [false, '', false],
  ] as const)('global %s, annotation %j -> %s', (global, value, want) => {
    const annotations: Record<string, string> =
      value === undefined ? {} : { 'sidecar.istio.io/nativeSidecar': value };
    expect(nativeSidecarsForPod(global, annotations)).toBe(want);
  });
});

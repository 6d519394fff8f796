import { describe, expect, it } from 'vitest';
import { parsePathParams } from '../../../src/core/path-params.js';
import { loadCases } from './decide-cases.js';

/** Some table paths are described as "decoded form of %2F... i.e. /inject/..."; take the decoded path. */
function pathOf(described: string): string {
  const marker = ' i.e. ';
  const at = described.indexOf(marker);
  return at < 0 ? described : described.slice(at + marker.length);
}

describe('parsePathParams: Istio TestParseInjectEnvs table', () => {
  const cases = loadCases().webhookTests.TestParseInjectEnvs.cases;
  it('has the 14 transcribed cases', () => {
    expect(cases).toHaveLength(14);
  });
  it.each(cases.map((c) => [pathOf(c.path), c.want] as const))('%s', (path, want) => {
    expect(parsePathParams(path)).toEqual(want);
  });
});

describe('parsePathParams: more cases', () => {
  it.each([
    ['/inject/CLUSTER/c1', { CLUSTER: 'c1' }],
    ['/inject/net/n1/cluster/c1', { ISTIO_META_NETWORK: 'n1', ISTIO_META_CLUSTER_ID: 'c1' }],
    ['/inject/a/--slash--x--slash--', { A: '/x/' }],
    ['/inject/:ENV:net=a/b', { ISTIO_META_NETWORK: 'a/b' }],
    ['/inject/:ENV:empty=', { EMPTY: '' }],
    ['', {}],
  ])('%s', (path, want) => {
    expect(parsePathParams(path)).toEqual(want);
  });
});

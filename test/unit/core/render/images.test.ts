import { describe, expect, it } from 'vitest';
import {
  proxyImage,
  proxyInitImage,
  tagWithImageType,
} from '../../../../src/core/render/images.js';
import type { JsonObject } from '../../../../src/core/json.js';
import { cases } from './corpus.js';

interface ImageCase {
  hub: string;
  tag: string | number;
  proxyConfigImageType?: string;
  annotationImageType?: string;
  want: string;
}

const table = (
  cases().webhookTests['TestProxyImage (inject_test.go)'] as unknown as {
    cases: ImageCase[];
  }
).cases;

function valuesWith(global: JsonObject): JsonObject {
  return { global: { proxy: { image: 'proxyv2' }, proxy_init: { image: 'proxyv2' }, ...global } };
}

describe('proxyImage (cases.json TestProxyImage)', () => {
  it('has the transcribed cases', () => {
    expect(table.length).toBeGreaterThanOrEqual(12);
  });

  it.each(table.map((c) => [c.want, c] as const))('%s', (_want, c) => {
    const image = proxyImage({
      values: valuesWith({ hub: c.hub, tag: c.tag }),
      proxyConfig:
        c.proxyConfigImageType === undefined
          ? {}
          : { image: { imageType: c.proxyConfigImageType } },
      annotations:
        c.annotationImageType === undefined
          ? {}
          : { 'sidecar.istio.io/proxyImageType': c.annotationImageType },
    });
    expect(image).toBe(c.want);
  });
});

describe('image composition rules', () => {
  const values = valuesWith({ hub: 'reg.example/istio', tag: '1.32.0', variant: 'distroless' });

  it.each([
    ['1.0', '', '1.0'],
    ['1.0', 'default', '1.0'],
    ['1.0-debug', 'default', '1.0'],
    ['1.0-distroless', 'debug', '1.0-debug'],
    ['1.0-distroless', '', '1.0-distroless'],
    ['1.0-debug-distroless', 'debug', '1.0-debug-debug'],
  ])('tag %j with type %j -> %j', (tag, type, want) => {
    expect(tagWithImageType(tag, type)).toBe(want);
  });

  it('uses global.variant when neither annotation nor proxy config names a type', () => {
    expect(proxyImage({ values })).toBe('reg.example/istio/proxyv2:1.32.0-distroless');
    expect(proxyInitImage({ values })).toBe('reg.example/istio/proxyv2:1.32.0-distroless');
  });

  it('ignores the proxy-config image type for the init container', () => {
    const proxyConfig = { image: { imageType: 'debug' } };
    expect(proxyImage({ values, proxyConfig })).toBe('reg.example/istio/proxyv2:1.32.0-debug');
    expect(proxyInitImage({ values, proxyConfig })).toBe(
      'reg.example/istio/proxyv2:1.32.0-distroless',
    );
  });

  it('takes a proxyImage annotation with a registry path verbatim for both containers', () => {
    const annotations = { 'sidecar.istio.io/proxyImage': 'mirror.example/proxy:custom' };
    expect(proxyImage({ values, annotations })).toBe('mirror.example/proxy:custom');
    expect(proxyInitImage({ values, annotations })).toBe('mirror.example/proxy:custom');
  });

  it('ignores a proxyImage annotation without a slash', () => {
    const annotations = { 'sidecar.istio.io/proxyImage': 'proxy:custom' };
    expect(proxyImage({ values, annotations })).toBe('reg.example/istio/proxyv2:1.32.0-distroless');
  });

  it('uses full image references from values, and separate names for proxy and init', () => {
    const custom = valuesWith({ hub: 'h', tag: 't' });
    (custom.global as JsonObject).proxy = { image: 'other.example/envoy:9' };
    (custom.global as JsonObject).proxy_init = { image: 'initimg' };
    expect(proxyImage({ values: custom })).toBe('other.example/envoy:9');
    expect(proxyInitImage({ values: custom })).toBe('h/initimg:t');
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_PROXY_CONFIG } from '../../../../src/core/config/defaults.js';
import {
  cleanProxyConfig,
  proxyConfigEnvValue,
} from '../../../../src/core/render/proxy-config-json.js';
import type { ProxyConfig } from '../../../../src/core/config/types.js';

const base: ProxyConfig = { ...DEFAULT_PROXY_CONFIG };

describe('PROXY_CONFIG serialisation', () => {
  // Expected strings are the PROXY_CONFIG values found in the corpus goldens and TestCleanProxyConfig.
  it.each<[string, ProxyConfig, string]>([
    ['built-in defaults', base, '{}\n'],
    ['explicit defaults', { ...base, drainDuration: '45s', statusPort: 15020 }, '{}\n'],
    ['a changed drain duration', { ...base, drainDuration: '23s' }, '{"drainDuration":"23s"}\n'],
    [
      'TPROXY interception',
      { ...base, interceptionMode: 'TPROXY' },
      '{"interceptionMode":"TPROXY"}\n',
    ],
    ['REDIRECT (the enum zero) is left out', { ...base, interceptionMode: 'REDIRECT' }, '{}\n'],
    ['an empty tracing block', { ...base, tracing: {} }, '{"tracing":{}}\n'],
    [
      'hold set to false (a wrapper type keeps false)',
      { ...base, holdApplicationUntilProxyStarts: false },
      '{"holdApplicationUntilProxyStarts":false}\n',
    ],
    [
      'discovery address, concurrency 0 and metadata in proto order',
      {
        proxyMetadata: {
          ISTIO_META_TLS_CLIENT_KEY: '/etc/identity2/client/keys/client-key.pem',
          FOO: 'bar',
        },
        concurrency: 0,
        ...base,
        discoveryAddress: 'foo:123',
      },
      '{"discoveryAddress":"foo:123","concurrency":0,"proxyMetadata":{"FOO":"bar","ISTIO_META_TLS_CLIENT_KEY":"/etc/identity2/client/keys/client-key.pem"}}\n',
    ],
    [
      'configPath, drainDuration and metadata (TestCleanProxyConfig)',
      { ...base, configPath: '/foo/bar', drainDuration: '7s', proxyMetadata: { foo: 'barr' } },
      '{"configPath":"/foo/bar","drainDuration":"7s","proxyMetadata":{"foo":"barr"}}\n',
    ],
    ['an empty proxyMetadata map', { ...base, proxyMetadata: {} }, '{}\n'],
  ])('%s', (_name, config, want) => {
    expect(proxyConfigEnvValue(config)).toBe(want);
  });

  it('writes only fields ProxyConfig declares (protobuf JSON holds no other)', () => {
    expect(cleanProxyConfig({ futureField: 'x', statusPort: 15021 })).toEqual({
      statusPort: 15021,
    });
    expect(cleanProxyConfig({ statsCompression: true, fileFlushMinSizeKb: 4 })).toEqual({
      fileFlushMinSizeKb: 4,
      statsCompression: true,
    });
  });

  it('omits proto3 zero values of plain fields', () => {
    expect(cleanProxyConfig({ serviceCluster: '', proxyAdminPort: 0, extraStatTags: [] })).toEqual(
      {},
    );
  });
});

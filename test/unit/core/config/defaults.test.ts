import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MESH,
  DEFAULT_PROXY_CONFIG,
  DEFAULT_VALUES,
  defaultInjectionConfig,
} from '../../../../src/core/config/defaults.js';
import { getPath, isJsonObject, type JsonValue } from '../../../../src/core/json.js';
import { CONFORMANCE_DIR } from '../../../helpers/shared.js';

interface Harness {
  harness: {
    defaults: {
      effectiveValues: Record<string, JsonValue>;
      effectiveMesh: Record<string, JsonValue>;
    };
  };
}

const casesFile = JSON.parse(readFileSync(join(CONFORMANCE_DIR, 'cases.json'), 'utf8')) as Harness;
const chartValues = (
  parse(readFileSync(join(CONFORMANCE_DIR, 'values.default.yaml'), 'utf8')) as Record<
    string,
    JsonValue
  >
)['_internal_defaults_do_not_set'];

/** Every leaf path of a plain JSON tree (lists count as leaves). */
function leaves(value: JsonValue | undefined, prefix = ''): [string, JsonValue][] {
  if (!isJsonObject(value) || Object.keys(value).length === 0) {
    return value === undefined ? [] : [[prefix, value]];
  }
  return Object.entries(value).flatMap(([k, v]) => leaves(v, prefix === '' ? k : `${prefix}.${k}`));
}

// Our product ships its own image location; the chart's are test placeholders.
const PRODUCT_SPECIFIC = new Set(['global.hub', 'global.tag']);

describe('DEFAULT_VALUES', () => {
  const ours = leaves(DEFAULT_VALUES).filter(([path]) => !PRODUCT_SPECIFIC.has(path));

  it.each(ours)('%s equals the istiod chart default', (path, value) => {
    // The chart's own `cni` and `env` values reach the injector as `pilot.cni` / `pilot.env`.
    expect(getPath(chartValues, path.replace(/^pilot\./, ''))).toEqual(value);
  });

  it('uses the product image defaults', () => {
    expect(getPath(DEFAULT_VALUES, 'global.hub')).toBe('docker.io/istio');
    expect(getPath(DEFAULT_VALUES, 'global.tag')).toBe('1.32.0');
  });

  const effective = Object.entries(casesFile.harness.defaults.effectiveValues)
    .map(([key, value]) => [key.replace(/ \(.*\)$/, ''), value] as const)
    .filter(
      ([key, value]) =>
        !PRODUCT_SPECIFIC.has(key) && !(typeof value === 'string' && value.includes('->')),
    );

  it.each(effective)('%s matches the harness effective value', (path, value) => {
    const want = isJsonObject(value)
      ? Object.fromEntries(Object.entries(value).filter(([k]) => !k.startsWith('_')))
      : value;
    expect(getPath(DEFAULT_VALUES, path)).toEqual(want);
  });
});

describe('DEFAULT_MESH', () => {
  const mesh = casesFile.harness.defaults.effectiveMesh;
  it.each([
    'trustDomain',
    'rootNamespace',
    'enablePrometheusMerge',
    'proxyListenPort',
    'proxyInboundListenPort',
    'inboundTrafficPolicy',
  ])('%s matches the harness effective mesh', (key) => {
    expect(DEFAULT_MESH[key]).toEqual(mesh[key]);
  });

  it.each([
    'discoveryAddress',
    'statusPort',
    'proxyAdminPort',
    'drainDuration',
    'terminationDrainDuration',
  ])('defaultConfig.%s matches the harness effective mesh', (key) => {
    expect(DEFAULT_MESH.defaultConfig[key]).toEqual(getPath(mesh['defaultConfig'], key));
  });

  it('leaves hold, tracing and proxyMetadata unset, interception mode REDIRECT', () => {
    expect(DEFAULT_MESH.defaultConfig.holdApplicationUntilProxyStarts).toBeUndefined();
    expect(DEFAULT_MESH.defaultConfig.tracing).toBeUndefined();
    expect(DEFAULT_MESH.defaultConfig.proxyMetadata).toBeUndefined();
    expect(DEFAULT_MESH.defaultConfig.interceptionMode).toBe('REDIRECT');
  });

  it('starts from the built-in proxy config', () => {
    expect(DEFAULT_MESH.defaultConfig).toEqual(DEFAULT_PROXY_CONFIG);
  });
});

describe('defaultInjectionConfig', () => {
  it('is deep-frozen and shared', () => {
    const config = defaultInjectionConfig();
    expect(config).toBe(defaultInjectionConfig());
    expect(Object.isFrozen(config.injector.defaultTemplates)).toBe(true);
    expect(Object.isFrozen(getPath(config.values, 'global.proxy.resources.limits'))).toBe(true);
    expect(() => {
      config.injector.defaultTemplates.push('x');
    }).toThrow(TypeError);
  });
});

import { describe, expect, it } from 'vitest';
import { defaultInjectionConfig } from '../../../../src/core/config/defaults.js';
import { mergeValues } from '../../../../src/core/config/merge.js';
import type { JsonObject } from '../../../../src/core/json.js';
import type { StringMap } from '../../../../src/core/pod-types.js';
import {
  excludeInboundPort,
  iptablesArgs,
  type IptablesInputs,
} from '../../../../src/core/render/iptables.js';

const DEFAULT_ARGS = [
  'istio-iptables',
  '-p',
  '15001',
  '-z',
  '15006',
  '-u',
  '1337',
  '-m',
  'REDIRECT',
  '-i',
  '*',
  '-x',
  '',
  '-b',
  '*',
  '-d',
  '15090,15021,15020',
  '--log_output_level=default:info',
];

function args(
  annotations: StringMap = {},
  proxyValues: JsonObject = {},
  extra: Partial<IptablesInputs> = {},
  globalValues: JsonObject = {},
): string[] {
  const values = mergeValues(defaultInjectionConfig().values, {
    global: { ...globalValues, proxy: proxyValues },
  });
  return iptablesArgs({
    annotations,
    values,
    mesh: { proxyListenPort: 15001, proxyInboundListenPort: 15006 },
    interceptionMode: annotations['sidecar.istio.io/interceptionMode'] ?? 'REDIRECT',
    proxyUID: 1337,
    cni: false,
    ...extra,
  });
}

/** The value following `flag`, or undefined when the flag is absent. */
function flag(list: string[], name: string): string | undefined {
  const at = list.indexOf(name);
  return at === -1 ? undefined : list[at + 1];
}

describe('iptables init container arguments (spec §7)', () => {
  it('defaults', () => {
    expect(args()).toEqual(DEFAULT_ARGS);
  });

  it('rows 2-3: mesh listen ports, 15001/15006 when unset (0)', () => {
    const list = args({}, {}, { mesh: { proxyListenPort: 0, proxyInboundListenPort: 0 } });
    expect([flag(list, '-p'), flag(list, '-z')]).toEqual(['15001', '15006']);
    const custom = args(
      {},
      {},
      { mesh: { proxyListenPort: 16001, proxyInboundListenPort: 16006 } },
    );
    expect([flag(custom, '-p'), flag(custom, '-z')]).toEqual(['16001', '16006']);
  });

  it.each([
    ['REDIRECT', 1000629999, '1000629999'],
    ['TPROXY', 1000629999, '1337'],
    ['TPROXY', 1337, '1337'],
  ])('row 4: -u in mode %s with proxy UID %i is %s', (mode, uid, want) => {
    expect(flag(args({}, {}, { interceptionMode: mode, proxyUID: uid }), '-u')).toBe(want);
  });

  it('row 5: -m is the effective interception mode', () => {
    expect(flag(args({ 'sidecar.istio.io/interceptionMode': 'TPROXY' }), '-m')).toBe('TPROXY');
  });

  it.each<[string, StringMap, JsonObject, string]>([
    ['-i', {}, { includeIPRanges: '10.0.0.0/8' }, '10.0.0.0/8'],
    ['-i', { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '' }, {}, ''],
    [
      '-i',
      { 'traffic.sidecar.istio.io/includeOutboundIPRanges': '127.0.0.1/24,10.96.0.1/24' },
      { includeIPRanges: '10.0.0.0/8' },
      '127.0.0.1/24,10.96.0.1/24',
    ],
    ['-x', {}, { excludeIPRanges: '10.96.0.2/24' }, '10.96.0.2/24'],
    ['-x', { 'traffic.sidecar.istio.io/excludeOutboundIPRanges': '1.1.1.1/32' }, {}, '1.1.1.1/32'],
    ['-b', {}, { includeInboundPorts: '80,81' }, '80,81'],
    ['-b', { 'traffic.sidecar.istio.io/includeInboundPorts': '' }, {}, ''],
    ['-b', { 'traffic.sidecar.istio.io/includeInboundPorts': '1,2,3' }, {}, '1,2,3'],
  ])('rows 6-8: %s from %j / values %j = %j', (name, annotations, proxyValues, want) => {
    expect(flag(args(annotations, proxyValues), name)).toBe(want);
  });

  it.each<[string, StringMap, JsonObject, string]>([
    ['default', {}, {}, '15090,15021,15020'],
    [
      'annotation exclude 4,5,6',
      { 'traffic.sidecar.istio.io/excludeInboundPorts': '4,5,6' },
      {},
      '15090,15021,4,5,6,15020',
    ],
    [
      'values statusPort 0 and exclude 4,5,6',
      {},
      { statusPort: 0, excludeInboundPorts: '4,5,6' },
      '15090,15021,4,5,6',
    ],
    ['status annotation 0', { 'status.sidecar.istio.io/port': '0' }, {}, '15090,15021'],
    ['status annotation 123', { 'status.sidecar.istio.io/port': '123' }, {}, '15090,15021,123'],
    [
      'status port already listed',
      { 'traffic.sidecar.istio.io/excludeInboundPorts': '15020,8080' },
      {},
      '15090,15021,15020,8080',
    ],
    [
      'spaces are trimmed when the port is appended',
      { 'traffic.sidecar.istio.io/excludeInboundPorts': ' 4, 5,,6 ' },
      {},
      '15090,15021,4,5,6,15020',
    ],
    [
      'an untrimmed duplicate is not recognised',
      { 'traffic.sidecar.istio.io/excludeInboundPorts': '4, 15020' },
      {},
      '15090,15021,4,15020,15020',
    ],
  ])('row 9: -d with %s', (_name, annotations, proxyValues, want) => {
    expect(flag(args(annotations, proxyValues), '-d')).toBe(want);
  });

  it.each<[string, StringMap, JsonObject, string | undefined]>([
    ['-q', {}, {}, undefined],
    ['-q', {}, { includeOutboundPorts: '443' }, '443'],
    ['-q', { 'traffic.sidecar.istio.io/includeOutboundPorts': '' }, {}, ''],
    ['-o', {}, {}, undefined],
    ['-o', { 'traffic.sidecar.istio.io/excludeOutboundPorts': '7,8,9' }, {}, '7,8,9'],
    ['-o', {}, { excludeOutboundPorts: '25' }, '25'],
  ])('rows 10-11: %s with %j / values %j = %j', (name, annotations, proxyValues, want) => {
    expect(flag(args(annotations, proxyValues), name)).toBe(want);
  });

  it.each<[StringMap, string | undefined]>([
    [{}, undefined],
    [{ 'traffic.sidecar.istio.io/kubevirtInterfaces': 'net1' }, 'net1'],
    [{ 'istio.io/reroute-virtual-interfaces': 'net0ps2' }, 'net0ps2'],
    [
      {
        'istio.io/reroute-virtual-interfaces': 'net0ps2',
        'traffic.sidecar.istio.io/kubevirtInterfaces': 'net1',
      },
      'net0ps2',
    ],
  ])('row 12: -k with %j = %j', (annotations, want) => {
    expect(flag(args(annotations), '-k')).toBe(want);
  });

  it('row 13: -c only when the excludeInterfaces annotation is present', () => {
    expect(flag(args(), '-c')).toBeUndefined();
    expect(flag(args({ 'traffic.sidecar.istio.io/excludeInterfaces': 'eth1' }), '-c')).toBe('eth1');
  });

  it('rows 10-13 keep their relative order before the log level', () => {
    const list = args({
      'traffic.sidecar.istio.io/excludeInterfaces': 'eth1',
      'traffic.sidecar.istio.io/kubevirtInterfaces': 'net1',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '9',
      'traffic.sidecar.istio.io/includeOutboundPorts': '8',
    });
    expect(list.slice(17)).toEqual([
      '-q',
      '8',
      '-o',
      '9',
      '-k',
      'net1',
      '-c',
      'eth1',
      '--log_output_level=default:info',
    ]);
  });

  it('row 14: agent log level from the annotation, else global.logging.level', () => {
    expect(args({ 'sidecar.istio.io/agentLogLevel': 'default:debug' }).at(-1)).toBe(
      '--log_output_level=default:debug',
    );
    expect(args({}, {}, {}, { logging: { level: 'all:warn' } }).at(-1)).toBe(
      '--log_output_level=all:warn',
    );
  });

  it('rows 15-17: trailing flags in order', () => {
    const all = args({}, {}, { cni: true }, { logAsJson: true, nativeNftables: true });
    expect(all.slice(-4)).toEqual([
      '--log_as_json',
      '--run-validation',
      '--skip-rule-apply',
      '--native-nftables',
    ]);
    const forced = { logAsJson: false, proxy_init: { image: 'proxyv2', forceApplyIptables: true } };
    expect(args({}, {}, {}, forced).at(-1)).toBe('--force-apply');
    // CNI mode validates only, so forcing rule application does not apply.
    expect(args({}, {}, { cni: true }, forced)).not.toContain('--force-apply');
  });
});

describe('excludeInboundPort', () => {
  it.each([
    ['15020', '', '15020'],
    ['0', '4,5', '4,5'],
    ['', '4,5', '4,5'],
    [' 15020 ', '4', '4,15020'],
    ['15020', '15020', '15020'],
    ['15020', ' 4 ,,5', '4,5,15020'],
    ['15020', '4, 15020', '4,15020,15020'],
  ])('port %j, list %j -> %j', (port, list, want) => {
    expect(excludeInboundPort(port, list)).toBe(want);
  });
});

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import {
  formatAnnotationError,
  formatAnnotationErrors,
  validateAnnotations,
} from '../../../../src/core/annotations/validate.js';
import { CORPUS_DIR } from '../../../helpers/shared.js';
import { loadCases } from '../decide-cases.js';

type Row = [annotation: string, value: string, reasonPart: string | null];

const rows: Row[] = [
  // interceptionMode
  ['sidecar.istio.io/interceptionMode', 'REDIRECT', null],
  ['sidecar.istio.io/interceptionMode', 'TPROXY', null],
  ['sidecar.istio.io/interceptionMode', 'NONE', null],
  [
    'sidecar.istio.io/interceptionMode',
    'redirect',
    'interceptionMode invalid, use REDIRECT,TPROXY,NONE: redirect',
  ],
  ['sidecar.istio.io/interceptionMode', '', 'interceptionMode invalid'],
  // status port (Istio's message names excludeInboundPorts)
  ['status.sidecar.istio.io/port', '15020', null],
  ['status.sidecar.istio.io/port', ' 0 ', null],
  ['status.sidecar.istio.io/port', '65535', null],
  ['status.sidecar.istio.io/port', '65536', 'excludeInboundPorts invalid: failed parsing port'],
  ['status.sidecar.istio.io/port', 'abc', 'excludeInboundPorts invalid'],
  ['status.sidecar.istio.io/port', '', 'excludeInboundPorts invalid'],
  ['status.sidecar.istio.io/port', '-1', 'excludeInboundPorts invalid'],
  // readiness settings
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', '0', null],
  // Istio parses uint32 but the probe fields are int32: past 2147483647 the pod would be invalid.
  ['readiness.status.sidecar.istio.io/periodSeconds', '2147483647', null],
  ['readiness.status.sidecar.istio.io/periodSeconds', '2147483648', 'the probe field is an int32'],
  [
    'readiness.status.sidecar.istio.io/failureThreshold',
    '4294967295',
    'the probe field is an int32',
  ],
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', '9007199254740993', 'out of range'],
  ['readiness.status.sidecar.istio.io/periodSeconds', '4294967296', 'out of range'],
  ['readiness.status.sidecar.istio.io/failureThreshold', ' 3', 'invalid syntax'],
  ['readiness.status.sidecar.istio.io/failureThreshold', '', 'invalid syntax'],
  ['readiness.status.sidecar.istio.io/initialDelaySeconds', '-1', 'invalid syntax'],
  // include IP ranges
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '*', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.96.0.1/24', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '127.0.0.1/24,10.96.0.1/24', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '0.0.0.0/0', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '2001:db8::/32', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '::/0', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '::ffff:10.0.0.1/120', null],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', 'fe80::1:2:3:4:5:6/64', null],
  [
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    'bad',
    "includeIPRanges invalid: failed parsing cidr 'bad'",
  ],
  [
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    '10.0.0.1',
    "failed parsing cidr '10.0.0.1'",
  ],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.0.0.0/33', 'bad bits'],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.0.0.0/08', 'bad bits'],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.0.0.256/8', 'includeIPRanges invalid'],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '010.0.0.0/8', 'leading zero'],
  [
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    '10.0.0.0/8, 10.1.0.0/16',
    "failed parsing cidr ' 10.1.0.0/16'",
  ],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '10.0.0.0/8,', "failed parsing cidr ''"],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '*,10.0.0.0/8', 'includeIPRanges invalid'],
  [
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    '2001:db8::1::/64',
    'includeIPRanges invalid',
  ],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', 'fe80::1%eth0/64', 'zones'],
  [
    'traffic.sidecar.istio.io/includeOutboundIPRanges',
    '1:2:3:4:5:6:7:8:9/64',
    'includeIPRanges invalid',
  ],
  ['traffic.sidecar.istio.io/includeOutboundIPRanges', '2001:db8::/129', 'bad bits'],
  // exclude IP ranges
  ['traffic.sidecar.istio.io/excludeOutboundIPRanges', '', null],
  ['traffic.sidecar.istio.io/excludeOutboundIPRanges', '10.96.0.2/24,10.96.0.3/24', null],
  [
    'traffic.sidecar.istio.io/excludeOutboundIPRanges',
    '*',
    "excludeIPRanges invalid: failed parsing cidr '*'",
  ],
  // inbound ports
  ['traffic.sidecar.istio.io/includeInboundPorts', '*', null],
  ['traffic.sidecar.istio.io/includeInboundPorts', '', null],
  ['traffic.sidecar.istio.io/includeInboundPorts', '80, 8080 ', null],
  [
    'traffic.sidecar.istio.io/includeInboundPorts',
    'bad',
    'includeInboundPorts invalid: failed parsing port',
  ],
  ['traffic.sidecar.istio.io/includeInboundPorts', '1,,2', 'includeInboundPorts invalid'],
  ['traffic.sidecar.istio.io/includeInboundPorts', '80,', 'includeInboundPorts invalid'],
  ['traffic.sidecar.istio.io/excludeInboundPorts', '4,5,6', null],
  ['traffic.sidecar.istio.io/excludeInboundPorts', '   ', null],
  ['traffic.sidecar.istio.io/excludeInboundPorts', '*', 'excludeInboundPorts invalid'],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', '5432', null],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', 'bad', 'excludeOutboundPorts invalid'],
  ['traffic.sidecar.istio.io/excludeOutboundPorts', '70000', 'excludeOutboundPorts invalid'],
  // not validated
  ['traffic.sidecar.istio.io/includeOutboundPorts', 'anything', null],
  ['sidecar.istio.io/proxyImage', ' ', null],
  ['sidecar.istio.io/inject', 'whatever', null],
  // interfaces
  ['traffic.sidecar.istio.io/excludeInterfaces', '', null],
  ['traffic.sidecar.istio.io/excludeInterfaces', 'eth0, net1.100,veth_a-b', null],
  ['traffic.sidecar.istio.io/excludeInterfaces', 'eth0,', 'empty interface name'],
  [
    'traffic.sidecar.istio.io/kubevirtInterfaces',
    'abcdefghijklmnop',
    'interface name "abcdefghijklmnop" too long (max 15 chars)',
  ],
  ['traffic.sidecar.istio.io/kubevirtInterfaces', 'abcdefghijklmno', null],
  [
    'istio.io/reroute-virtual-interfaces',
    '0eth',
    'interface name "0eth" contains invalid characters',
  ],
  ['istio.io/reroute-virtual-interfaces', 'et h0', 'contains invalid characters'],
  ['istio.io/reroute-virtual-interfaces', 'net1', null],
  // Go booleans
  ...['1', 't', 'T', 'TRUE', 'true', 'True', '0', 'f', 'F', 'FALSE', 'false', 'False'].map(
    (v): Row => ['prometheus.istio.io/merge-metrics', v, null],
  ),
  ['prometheus.istio.io/merge-metrics', 'yes', "invalid boolean 'yes'"],
  ['prometheus.istio.io/merge-metrics', 'tRuE', 'invalid boolean'],
  // quantities
  ['sidecar.istio.io/proxyCPU', '100m', null],
  ['sidecar.istio.io/proxyMemory', '1Gi', null],
  ['sidecar.istio.io/proxyCPULimit', '2', null],
  ['sidecar.istio.io/proxyMemoryLimit', '1e9', null],
  ['sidecar.istio.io/proxyCPU', '', 'quantities must match the regular expression'],
  ['sidecar.istio.io/proxyMemory', 'lots', 'quantities must match'],
  ['sidecar.istio.io/proxyMemoryLimit', '1Gi\n', 'value contains control characters'],
  ['sidecar.istio.io/proxyCPULimit', '1\u0007', 'value contains control characters'],
  // proxy config
  ['proxy.istio.io/config', 'discoveryAddress: foo:123\nconcurrency: 0', null],
  ['proxy.istio.io/config', '{"holdApplicationUntilProxyStarts": true}', null],
  ['proxy.istio.io/config', '', null],
  [
    'proxy.istio.io/config',
    'statusPort: abc',
    'failed to convert to apply proxy config: statusPort',
  ],
  [
    'proxy.istio.io/config',
    'proxyMetadata: [a]',
    'failed to convert to apply proxy config: proxyMetadata',
  ],
  ['proxy.istio.io/config', 'just text', 'failed to convert to apply proxy config'],
  ['proxy.istio.io/config', '{bad', 'failed to convert to apply proxy config'],
  ['proxy.istio.io/config', 'discoveryAddress: nohost', 'invalid proxy config: discoveryAddress'],
  ['proxy.istio.io/config', 'binaryPath: ""', 'binaryPath: must be set'],
];

describe('validateAnnotations: every validated annotation', () => {
  it.each(rows)('%s = %j', (annotation, value, reasonPart) => {
    const details = validateAnnotations({ [annotation]: value });
    if (reasonPart === null) {
      expect(details).toEqual([]);
    } else {
      expect(details).toHaveLength(1);
      expect(details[0]?.field).toBe(`metadata.annotations[${annotation}]`);
      expect(details[0]?.value).toBe(value);
      expect(details[0]?.reason).toContain(reasonPart);
    }
  });
});

describe('validateAnnotations: reporting', () => {
  it('reports every invalid annotation, sorted by name, and ignores valid ones', () => {
    const details = validateAnnotations({
      'traffic.sidecar.istio.io/includeInboundPorts': 'bad',
      'sidecar.istio.io/interceptionMode': 'x',
      'traffic.sidecar.istio.io/excludeOutboundPorts': '80',
      'sidecar.istio.io/proxyCPU': 'q',
    });
    expect(details.map((d) => d.field)).toEqual([
      'metadata.annotations[sidecar.istio.io/interceptionMode]',
      'metadata.annotations[sidecar.istio.io/proxyCPU]',
      'metadata.annotations[traffic.sidecar.istio.io/includeInboundPorts]',
    ]);
  });

  it("formats one detail in Istio's words", () => {
    const [detail] = validateAnnotations({
      'traffic.sidecar.istio.io/includeOutboundIPRanges': 'bad',
    });
    expect(detail).toBeDefined();
    if (detail === undefined) return;
    expect(formatAnnotationError(detail)).toMatch(
      /^invalid value 'bad' for annotation 'traffic\.sidecar\.istio\.io\/includeOutboundIPRanges': includeIPRanges invalid: failed parsing cidr 'bad': /,
    );
  });

  it('formats the multi-error list', () => {
    const one = validateAnnotations({ 'sidecar.istio.io/interceptionMode': 'x' });
    expect(formatAnnotationErrors(one)).toBe(
      "1 error occurred:\n\t* invalid value 'x' for annotation 'sidecar.istio.io/interceptionMode': interceptionMode invalid, use REDIRECT,TPROXY,NONE: x\n\n",
    );
    const two = validateAnnotations({
      'sidecar.istio.io/interceptionMode': 'x',
      'status.sidecar.istio.io/port': 'y',
    });
    const text = formatAnnotationErrors(two);
    expect(text.startsWith('2 errors occurred:\n\t* ')).toBe(true);
    expect(text.split('\n\t* ')).toHaveLength(3);
    expect(formatAnnotationErrors([])).toBe('');
  });
});

describe('validateAnnotations: corpus traffic-annotations-bad-* cases', () => {
  const bad = loadCases().cases.filter((c) => typeof c.expectedError === 'string');

  it('finds the five expected-error cases', () => {
    expect(bad.length).toBe(5);
  });

  function annotationsOf(node: unknown, out: Record<string, string>): void {
    if (Array.isArray(node)) node.forEach((n) => annotationsOf(n, out));
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === 'annotations' && value !== null && typeof value === 'object') {
          Object.assign(out, value);
        } else annotationsOf(value, out);
      }
    }
  }

  it.each(bad.map((c) => [c.in, c.expectedError ?? ''] as const))(
    '%s fails with a message containing %j',
    (file, expected) => {
      const annotations: Record<string, string> = {};
      for (const doc of parseAllDocuments(readFileSync(join(CORPUS_DIR, file), 'utf8'))) {
        if (!('errors' in doc)) continue;
        annotationsOf(doc.toJS(), annotations);
      }
      const details = validateAnnotations(annotations);
      expect(details.length).toBeGreaterThan(0);
      expect(formatAnnotationErrors(details).toLowerCase()).toContain(expected);
    },
  );
});

describe('validateAnnotations: malformed values', () => {
  it('reports a non-string value instead of throwing', () => {
    const annotations = { 'status.sidecar.istio.io/port': 15020, 'proxy.istio.io/config': {} };
    const details = validateAnnotations(annotations as unknown as Record<string, string>);
    expect(details.map((d) => d.reason)).toEqual([
      'annotation values must be strings',
      'annotation values must be strings',
    ]);
  });
});

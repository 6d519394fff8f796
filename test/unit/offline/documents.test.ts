import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { splitDocuments } from '../../../src/offline/documents.js';

const manifest = (value: string): string => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    top: ${value}
spec:
  replicas: 2
  template:
    metadata:
      labels:
        app: web
      annotations:
        a: ${value}
        quoted: "${value}"
    spec:
      containers:
        - name: app
          image: nginx
          args: [${value}]
`;

interface Workload {
  metadata: { labels: Record<string, unknown> };
  spec: {
    replicas: unknown;
    template: {
      metadata: { annotations: Record<string, unknown> };
      spec: { containers: { args: unknown[] }[] };
    };
  };
}

const read = (text: string): Workload => splitDocuments(text, 'in.yaml')[0]?.value as never;

describe('labels and annotations of a manifest are read as istioctl reads them (YAML 1.1 into Go strings)', () => {
  // What sigs.k8s.io/yaml gives for a plain scalar read into a Go string field.
  it.each([
    ['yes', 'true'],
    ['on', 'true'],
    ['Off', 'false'],
    ['n', 'false'],
    ['0777', '511'],
    ['0x1F', '31'],
    ['1_000', '1000'],
    ['1e3', '1000'],
    ['1.5', '1.5'],
    ['true', 'true'],
    ['plain', 'plain'],
  ])('plain %s is the string %s', (text, want) => {
    const w = read(manifest(text));
    expect(w.metadata.labels['top']).toBe(want);
    expect(w.spec.template.metadata.annotations['a']).toBe(want);
    // A quoted scalar is a string already; other fields keep their YAML reading.
    expect(w.spec.template.metadata.annotations['quoted']).toBe(text);
    expect(w.spec.replicas).toBe(2);
    expect(w.spec.template.spec.containers[0]?.args).toEqual([parse(text)]);
  });

  it('writes a rewritten value back quoted, so the output keeps it a string (generated)', () => {
    const words = fc.constantFrom('yes', 'No', 'ON', 'off', 'y', 'N', '0o17', '0777', '+12');
    fc.assert(
      fc.property(words, (text) => {
        const [doc] = splitDocuments(manifest(text), 'in.yaml');
        const written = parse(String(doc?.doc)) as Workload;
        const value = (doc?.value as unknown as Workload).spec.template.metadata.annotations['a'];
        expect(typeof value).toBe('string');
        expect(written.spec.template.metadata.annotations['a']).toBe(value);
      }),
    );
  });
});

/** Malformed workloads through the real engine: one coded error naming document, object and fields. */
import { describe, expect, it } from 'vitest';
import { runInject } from '../../../src/cli/inject.js';
import { EXIT } from '../../../src/cli/io.js';
import { captureIO } from '../cli/capture-io.js';

const MALFORMED = `apiVersion: v1
kind: Service
metadata: {name: web}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    metadata:
      labels: {app: [5]}
    spec:
      containers:
      - name: web
        image: web
        ports: [{containerPort: "80"}]
`;

describe('inject on a malformed workload', () => {
  it('fails with INJ_ERR_INVALID_POD naming the document, the object and every wrong field', async () => {
    const io = captureIO('/', MALFORMED);
    expect(await runInject(['-f', '-'], io)).toBe(EXIT.FAILURE);
    expect(io.out()).toBe('');
    const err = io.err();
    expect(err).toContain('INJ_ERR_INVALID_POD');
    expect(err).toContain('document 2 (Deployment "web")');
    expect(err).toContain('spec.template.metadata.labels[app]');
    expect(err).toContain('metadata.labels[app]: expected a string, got a list');
    expect(err).toContain(
      'spec.containers[0].ports[0].containerPort: expected a number, got string "80"',
    );
  });
});

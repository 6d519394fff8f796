import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { EnvVar, Pod } from '../../../../src/core/pod-types.js';
import {
  dumpAppProbers,
  mergeOrAppendProbers,
  probeRewritePort,
  rewriteAppProbes,
} from '../../../../src/core/pipeline/probes.js';

const BAR = '{"/app-health/bar/livez":{"httpGet":{"port":9000}}}';
const FOO = '{"/app-health/foo/livez":{"httpGet":{"port":8000}}}';
const BOTH =
  '{"/app-health/bar/livez":{"httpGet":{"port":9000}},"/app-health/foo/livez":{"httpGet":{"port":8000}}}';

describe('mergeOrAppendProbers (TestMergeOrAppendProbers)', () => {
  it.each<[string, boolean, EnvVar[], string, EnvVar[]]>([
    [
      'new pod: appended verbatim',
      false,
      [],
      BOTH,
      [{ name: 'ISTIO_KUBE_APP_PROBERS', value: BOTH }],
    ],
    [
      're-injection: replaced in place by the union',
      true,
      [
        { name: 'TEST_ENV_VAR1', value: '1' },
        { name: 'ISTIO_KUBE_APP_PROBERS', value: FOO },
        { name: 'TEST_ENV_VAR2', value: '2' },
      ],
      BAR,
      [
        { name: 'TEST_ENV_VAR1', value: '1' },
        { name: 'ISTIO_KUBE_APP_PROBERS', value: BOTH },
        { name: 'TEST_ENV_VAR2', value: '2' },
      ],
    ],
    [
      're-injection without previous probers: appended',
      true,
      [
        { name: 'TEST_ENV_VAR1', value: '1' },
        { name: 'TEST_ENV_VAR2', value: '2' },
      ],
      BAR,
      [
        { name: 'TEST_ENV_VAR1', value: '1' },
        { name: 'TEST_ENV_VAR2', value: '2' },
        { name: 'ISTIO_KUBE_APP_PROBERS', value: BAR },
      ],
    ],
  ])('%s', (_name, previous, env, probers, want) => {
    expect(mergeOrAppendProbers(previous, env, probers)).toEqual(want);
  });

  it('existing entries win on a key clash', () => {
    const old = '{"/app-health/foo/livez":{"httpGet":{"port":1}}}';
    const out = mergeOrAppendProbers(true, [{ name: 'ISTIO_KUBE_APP_PROBERS', value: old }], FOO);
    expect(out[0]?.value).toBe(old);
  });
});

function appPod(): Pod {
  return {
    spec: {
      containers: [
        {
          name: 'hello',
          ports: [{ name: 'http', containerPort: 80 }],
          readinessProbe: {
            httpGet: { port: 'http', path: '/ready', scheme: 'HTTPS' },
            timeoutSeconds: 2,
          },
          livenessProbe: { tcpSocket: { port: 81 } },
          startupProbe: { exec: { command: ['true'] } },
          lifecycle: {
            preStop: { httpGet: { port: 82, path: '/stop' } },
            postStart: { tcpSocket: { port: 93 } },
          },
        },
        {
          name: 'done',
          livenessProbe: { httpGet: { port: 15020, path: '/app-health/done/livez' } },
        },
        {
          name: 'istio-proxy',
          readinessProbe: { httpGet: { port: 15021, path: '/healthz/ready' } },
        },
      ],
    },
  };
}

describe('dumpAppProbers', () => {
  it('collects http, tcp and lifecycle handlers with named ports resolved, keys sorted', () => {
    expect(dumpAppProbers(appPod(), 15020)).toBe(
      '{"/app-health/hello/livez":{"tcpSocket":{"port":81}},' +
        '"/app-health/hello/readyz":{"httpGet":{"path":"/ready","port":80,"scheme":"HTTPS"},"timeoutSeconds":2},' +
        '"/app-lifecycle/hello/poststartz":{"tcpSocket":{"port":93}},' +
        '"/app-lifecycle/hello/prestopz":{"httpGet":{"path":"/stop","port":82}}}',
    );
  });

  it('drops unknown named ports and gives nothing for a pod without probes', () => {
    expect(
      dumpAppProbers(
        { spec: { containers: [{ name: 'a', readinessProbe: { httpGet: { port: 'nope' } } }] } },
        15020,
      ),
    ).toBe('');
  });
});

describe('rewriteAppProbes', () => {
  it('points application probes at the agent and leaves the proxy alone', () => {
    const pod = appPod();
    rewriteAppProbes(pod, 15020);
    const [hello, , proxy] = pod.spec?.containers ?? [];
    expect(hello?.readinessProbe).toEqual({
      httpGet: { port: 15020, path: '/app-health/hello/readyz', scheme: 'HTTP' },
      timeoutSeconds: 2,
    });
    expect(hello?.livenessProbe).toEqual({
      httpGet: { path: '/app-health/hello/livez', port: 15020 },
    });
    expect(hello?.startupProbe).toEqual({ exec: { command: ['true'] } });
    expect(hello?.lifecycle).toEqual({
      preStop: { httpGet: { port: 15020, path: '/app-lifecycle/hello/prestopz' } },
      postStart: { httpGet: { path: '/app-lifecycle/hello/poststartz', port: 15020 } },
    });
    expect(proxy?.readinessProbe).toEqual({ httpGet: { port: 15021, path: '/healthz/ready' } });
  });
});

describe('gRPC probers as Go prints corev1.GRPCAction (port and service carry no omitempty)', () => {
  const serviceArb = fc.option(fc.string({ maxLength: 8 }), { nil: undefined });
  const probeArb = fc.record(
    {
      grpc: fc.record(
        { port: fc.integer({ min: 1, max: 65535 }), service: serviceArb },
        { requiredKeys: ['port'] },
      ),
      timeoutSeconds: fc.integer({ min: 0, max: 30 }),
    },
    { requiredKeys: ['grpc'] },
  );
  const fieldArb = fc.constantFrom(
    ['readinessProbe', 'readyz'],
    ['livenessProbe', 'livez'],
    ['startupProbe', 'startupz'],
  );

  it('always writes `service`, null when unset, after `port`', () => {
    fc.assert(
      fc.property(probeArb, fieldArb, fc.boolean(), (probe, [field, kind], init) => {
        const container = { name: 'app', image: 'nginx', [field]: probe };
        const spec = init
          ? { initContainers: [container], containers: [{ name: 'main' }] }
          : { containers: [container] };
        const dumped = JSON.parse(dumpAppProbers({ spec }, 15020)) as Record<string, unknown>;
        const service = probe.grpc.service ?? null;
        const want: Record<string, unknown> = { grpc: { port: probe.grpc.port, service } };
        if (probe.timeoutSeconds) want.timeoutSeconds = probe.timeoutSeconds;
        const got = dumped[`/app-health/app/${kind}`];
        expect(got).toEqual(want);
        // Key order is part of the text the agent and Istio's goldens see.
        expect(Object.keys((got as { grpc: object }).grpc)).toEqual(['port', 'service']);
      }),
    );
  });
});

describe('named probe ports resolve as Istio maps them (the last port of a name wins)', () => {
  const nameArb = fc.constantFrom('', 'http', 'https', 'grpc');
  const portsArb = fc.array(
    fc.record({ name: nameArb, containerPort: fc.integer({ min: 1, max: 65535 }) }),
    { maxLength: 5 },
  );

  it('an httpGet or tcpSocket probe on a named port', () => {
    fc.assert(
      fc.property(portsArb, nameArb, fc.boolean(), (ports, name, http) => {
        const handler = http
          ? { httpGet: { path: '/', port: name } }
          : { tcpSocket: { port: name } };
        const pod = {
          spec: { containers: [{ name: 'app', ports, readinessProbe: handler }] },
        } as Pod;
        const text = dumpAppProbers(pod, 15020);
        let want: number | undefined;
        for (const p of ports) if (p.name !== '' && p.name === name) want = p.containerPort;
        if (want === undefined) {
          expect(text).toBe('');
          return;
        }
        const probers = JSON.parse(text) as Record<string, Record<string, { port: number }>>;
        const prober = probers['/app-health/app/readyz'];
        expect(prober?.[http ? 'httpGet' : 'tcpSocket']?.port).toBe(want);
      }),
    );
  });
});

describe('probeRewritePort reads the annotation as Go strconv.Atoi does (0 for any unreadable text)', () => {
  it('absent: the status port; digits: their value; anything else, spaces included: 0', () => {
    expect(probeRewritePort(undefined, 15020)).toBe(15020);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('', ' ', '\t'), (n, pad) => {
        expect(probeRewritePort(String(n), 15020)).toBe(n);
        if (pad !== '') {
          expect(probeRewritePort(`${pad}${n}`, 15020)).toBe(0);
          expect(probeRewritePort(`${n}${pad}`, 15020)).toBe(0);
        }
      }),
    );
    expect(probeRewritePort('00', 15020)).toBe(0);
    expect(probeRewritePort('x', 15020)).toBe(0);
  });
});

/**
 * The Kubernetes structs a template reads (`.Spec.Containers`, `$c.Ports`). istiod decodes the
 * pod into k8s.io/api core/v1 types (v0.36.1 in the pinned Istio, test/oracle/go.mod), so a
 * template sees every field of `corev1.Container` by its Go name, and `toJson` of a container
 * is encoding/json's output: fields in struct declaration order, unknown fields dropped,
 * `resources` (a struct value, not a pointer) always printed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MESH,
  DEFAULT_PROXY_CONFIG,
  DEFAULT_VALUES,
} from '../../../../src/core/config/defaults.js';
import { compileTemplate } from '../../../../src/core/template/index.js';
import {
  buildTemplateData,
  containerStructs,
  templateSchema,
} from '../../../../src/core/template/data.js';

/** k8s.io/api@v0.36.1 core/v1/types.go `type Container struct`, in declaration order. */
const CONTAINER_FIELDS: readonly (readonly [string, unknown])[] = [
  ['name', 'app'],
  ['image', 'busybox'],
  ['command', ['sh']],
  ['args', ['-c', 'true']],
  ['workingDir', '/w'],
  ['ports', [{ containerPort: 80 }]],
  ['envFrom', [{ prefix: 'P_' }]],
  ['env', [{ name: 'A', value: 'b' }]],
  ['resources', { limits: { cpu: '1' } }],
  ['resizePolicy', [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }]],
  ['restartPolicy', 'Always'],
  ['restartPolicyRules', [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }]],
  ['volumeMounts', [{ name: 'v', mountPath: '/v' }]],
  ['volumeDevices', [{ name: 'd', devicePath: '/dev/d' }]],
  ['livenessProbe', { periodSeconds: 5 }],
  ['readinessProbe', { periodSeconds: 6 }],
  ['startupProbe', { periodSeconds: 7 }],
  ['lifecycle', { preStop: { sleep: { seconds: 1 } } }],
  ['terminationMessagePath', '/t'],
  ['terminationMessagePolicy', 'File'],
  ['imagePullPolicy', 'Always'],
  ['securityContext', { runAsUser: 1 }],
  ['stdin', true],
  ['stdinOnce', true],
  ['tty', true],
];

function render(text: string, containers: unknown[]): string {
  return compileTemplate(text).render({ c: containerStructs(containers) });
}

describe('template data: corev1.Container', () => {
  it('reads restartPolicyRules by its Go name, as istiod templates can', () => {
    const rules = [{ action: 'Restart', exitCodes: { operator: 'In', values: [42] } }];
    const text =
      '{{ range (index .c 0).RestartPolicyRules }}{{ .Action }}:{{ .ExitCodes.Values }}{{ end }}';
    expect(render(text, [{ name: 'app', restartPolicyRules: rules }])).toBe('Restart:[42]');
    // Unset, it is a nil slice: `range` takes its else branch, as in Go.
    const unset = '{{ range (index .c 0).RestartPolicyRules }}rule{{ else }}none{{ end }}';
    expect(render(unset, [{ name: 'app' }])).toBe('none');
  });

  it('toJson writes any container in Go declaration order, unknown fields dropped', () => {
    const arbContainer = fc
      .subarray([...CONTAINER_FIELDS.keys()])
      .chain((kept) =>
        fc.tuple(fc.constant(kept), fc.shuffledSubarray(kept, { minLength: kept.length })),
      );
    fc.assert(
      fc.property(arbContainer, fc.boolean(), ([kept, shuffled], unknown) => {
        const input: Record<string, unknown> = {};
        for (const i of shuffled) input[CONTAINER_FIELDS[i]![0]] = CONTAINER_FIELDS[i]![1];
        if (unknown) input['notAContainerField'] = 'x';
        const expected: Record<string, unknown> = {};
        for (const [i, [name, value]] of CONTAINER_FIELDS.entries()) {
          if (kept.includes(i)) expected[name] = value;
          // `name` carries no omitempty; `resources` is a struct value: both always printed.
          else if (name === 'name') expected[name] = '';
          else if (name === 'resources') expected[name] = {};
        }
        expect(render('{{ toJson (index .c 0) }}', [input])).toBe(JSON.stringify(expected));
      }),
      { numRuns: 200 },
    );
  });
});

describe('template data: pod, metadata and type', () => {
  it('reads the fields whose Go names are not the capitalised JSON names', () => {
    const data = buildTemplateData({
      pod: {
        metadata: { uid: 'u-1', name: 'p' },
        spec: {
          containers: [],
          dnsPolicy: 'None',
          serviceAccount: 'legacy',
          os: { name: 'linux' },
          hostPID: true,
          dnsConfig: { nameservers: ['1.1.1.1'] },
        },
      },
      typeMeta: { kind: 'Deployment', apiVersion: 'apps/v1' },
      deploymentMeta: { namespace: 'ns', name: 'd' },
      proxyConfig: DEFAULT_PROXY_CONFIG,
      mesh: DEFAULT_MESH,
      values: DEFAULT_VALUES,
      revision: 'default',
      nativeSidecars: false,
      proxyUID: 1337,
      proxyGID: 1337,
      compliancePolicy: '',
    });
    const text =
      '{{ .Spec.DNSPolicy }} {{ .Spec.DeprecatedServiceAccount }} {{ .Spec.OS.Name }} ' +
      '{{ .Spec.HostPID }} {{ index .Spec.DNSConfig.Nameservers 0 }} {{ .ObjectMeta.UID }} ' +
      '{{ .ObjectMeta.Name }} {{ .TypeMeta.APIVersion }} {{ .TypeMeta.Kind }} ' +
      '{{ .DeploymentMeta.Namespace }}/{{ .DeploymentMeta.Name }}';
    expect(compileTemplate(text).render(data)).toBe(
      'None legacy linux true 1.1.1.1 u-1 p apps/v1 Deployment ns/d',
    );
  });
});

describe('templateSchema', () => {
  it('gives Go name, JSON name and kind; the Go name capitalised unless spelt', () => {
    expect(
      templateSchema('v1.PodSpec', 'hostPID:b DNSPolicy=dnsPolicy:s os:*v1.PodOS l:m'),
    ).toEqual([
      ['HostPID', 'hostPID', 'b'],
      ['DNSPolicy', 'dnsPolicy', 's'],
      ['Os', 'os', '*v1.PodOS'],
      ['L', 'l', 'm'],
    ]);
  });

  it('refuses an unknown kind, a malformed entry and omitempty, naming the struct', () => {
    expect(() => templateSchema('v1.PodSpec', 'hostname:s nodeName:str')).toThrow(
      'field table v1.PodSpec: entry "nodeName:str" has an unknown kind',
    );
    expect(() => templateSchema('v1.PodSpec', 'hostname')).toThrow(
      'field table v1.PodSpec: entry "hostname" is malformed',
    );
    expect(() => templateSchema('v1.PodSpec', 'hostname:s?')).toThrow(
      'field table v1.PodSpec: entry "hostname:s?" may not be optional',
    );
  });
});

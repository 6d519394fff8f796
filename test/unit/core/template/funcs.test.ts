/**
 * The function set: sprig's functions as sprig v3.3.0 behaves and istiod's InjectionFuncmap as
 * istio/pkg/kube/inject/template.go defines it (registered after sprig, so its `indent` and `env`
 * win). Each row states the output Go gives; `ERR text` means execution fails with text in the
 * message. Sprig and builtin rows were checked against Go with sprig; Istio rows follow its source.
 */
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { compileTemplate, injectionFuncs } from '../../../../src/core/template/index.js';
import { containerStructs, objectMetaStruct } from '../../../../src/core/template/data.js';
import { goDurationString } from '../../../../src/core/template/funcs.js';
import { fromJsonValue, StrMap, type GoValue } from '../../../../src/core/template/value.js';

const DATA: GoValue = {
  meta: objectMetaStruct({ annotations: { a: '1', b: '' } }),
  ann: new StrMap({ x: '1', y: '2' }),
  nilann: new StrMap({}, true),
  containers: containerStructs([
    {
      name: 'app',
      ports: [
        { containerPort: 80, protocol: 'TCP' },
        { containerPort: 53, protocol: 'UDP' },
        { containerPort: 9090 },
      ],
    },
    { name: 'istio-proxy', ports: [{ containerPort: 15090, name: 'http-envoy-prom' }] },
  ]),
  vals: fromJsonValue({
    n: 15020,
    s: 'x',
    e: '',
    z: null,
    list: ['a', null, 1],
    res: { limits: { cpu: null, memory: '1Gi' }, requests: null },
  }),
};

const CASES: readonly (readonly [string, string])[] = [
  [
    '{{ annotation .meta "a" "d" }}|{{ annotation .meta "b" "d" }}|{{ annotation .meta "c" "d" }}|{{ annotation .meta "c" .vals.n }}|{{ annotation .meta "c" .vals.z }}|{{ annotation .meta "c" true }}',
    '1||d|15020|<nil>|true',
  ],
  [
    '{{ isset .ann "x" }} {{ isset .ann "q" }} {{ isset .nilann "x" }} {{ isset .meta.Annotations "b" }}',
    'true false false true',
  ],
  [
    '{{ valueOrDefault .vals.e "d" }} {{ valueOrDefault .vals.s "d" }} {{ valueOrDefault .vals.z "d" }} {{ valueOrDefault .vals.missing "d" }} {{ valueOrDefault .vals.n "d" }}',
    'd x d d 15020',
  ],
  [
    '{{ toJSON .ann }} {{ toJSON .nilann }} {{ toJSON (strdict "a" "<&>") }}',
    '{"x":"1","y":"2"} {} {"a":"\\u003c\\u0026\\u003e"}',
  ],
  [
    '{{ fromJSON "[1,{\\"a\\":null}]" }} {{ fromJSON "bad" }} {{ (fromJSON "{\\"k\\":2}").k }}',
    '[1 map[a:<nil>]] {} 2',
  ],
  [
    '{{ structToJSON (index .containers 0).Ports }} {{ structToJSON .ann }} {{ structToJSON .vals.z }}',
    '[{"containerPort":80,"protocol":"TCP"},{"containerPort":53,"protocol":"UDP"},{"containerPort":9090}] {"x":"1","y":"2"} {}',
  ],
  [
    '{{ range $i, $c := .containers }}{{ range $c.Ports }}{{ structToJSON . }};{{ end }}{{ end }}',
    '{"containerPort":80,"protocol":"TCP"};{"containerPort":53,"protocol":"UDP"};{"containerPort":9090};{"name":"http-envoy-prom","containerPort":15090};',
  ],
  ['{{ toYaml .vals.res }}', 'limits:\n  cpu: null\n  memory: 1Gi\nrequests: null\n'],
  ['{{ toYaml (omitNil .vals.res) }}|{{ omitNil .vals.list }}', 'limits:\n  memory: 1Gi\n|[a 1]'],
  [
    '{{ toYaml (fromJSON "[{\\"name\\":\\"v\\",\\"emptyDir\\":{}}]") }}',
    '- emptyDir: {}\n  name: v\n',
  ],
  ['[{{ indent 2 "a\\nb\\nc" }}] [{{ nindent 2 "a\\nb" }}]', '[a\n  b\n  c] [\n  a\n  b]'],
  [
    '{{ excludeInboundPort 15020 "" }} {{ excludeInboundPort .vals.n "1,2" }} {{ excludeInboundPort "15020" "15020, 3" }} {{ excludeInboundPort 0 "1" }} {{ excludeInboundPort " 7 " " 1 ,, 2" }}',
    '15020 1,2,15020 15020, 3 1 1,2,7',
  ],
  [
    '{{ includeInboundPorts .containers }} {{ applicationPorts .containers }}',
    '80,9090,15090 80,9090',
  ],
  [
    '{{ kubevirtInterfaces "a,b" }} {{ directory "/etc/certs/root.pem" }}|{{ directory "x" }}|',
    'a,b /etc/certs/||',
  ],
  ['{{ contains "b" "abc" }} {{ contains "abc" "b" }} {{ toLower "AbC" }}', 'true false abc'],
  [
    '{{ appendMultusNetwork "" "default/istio-cni" }}|{{ appendMultusNetwork "a, b" "default/istio-cni" }}|{{ appendMultusNetwork "a, default/istio-cni" "default/istio-cni" }}',
    'default/istio-cni|a, b, default/istio-cni|a, default/istio-cni',
  ],
  ['{{ env "NOPE_VAR_X_11" "dflt" }}', 'dflt'],
  [
    '{{ omit .ann "x" }} {{ strdict "a" "1" "b" }} {{ mergeMaps .ann (strdict "x" "9") }} {{ toJsonMap .ann (strdict "z" "0") }}',
    'map[y:2] map[a:1 b:] map[x:9 y:2] {"x":"1","y":"2","z":"0"}',
  ],
  [
    '{{ default "d" .vals.e }} {{ default "d" .vals.s }} {{ default "d" .vals.missing }} {{ default "d" 0 }} {{ default "d" false }} {{ default "d" .vals.list }}',
    'd x d d d [a <nil> 1]',
  ],
  [
    '{{ quote "a\\"b" .vals.n .vals.z }}|{{ list 1 "a" | join "," }}|{{ join "-" .vals.list }}',
    '"a\\"b" "15020"|1,a|a-1',
  ],
  [
    '{{ $l := list }}{{ $l = append $l "x" }}{{ $l = append $l "y" }}{{ $l }} {{ len $l }}',
    '[x y] 2',
  ],
  [
    '{{ trunc 3 "abcdef" }} {{ trunc -2 "abcdef" }} {{ trunc 9 "ab" }} {{ trimAll "-" "--a-b--" }} {{ trimSuffix "-" "ab-" }}',
    'abc ef ab a-b ab',
  ],
  [
    '{{ ne (index .ann "q" | default (printf "%t" false)) "false" }} {{ index .meta.Annotations "zz" | default "none" }}',
    'false none',
  ],
  [
    '{{ range .containers }}{{ .Name }}:{{ range .Ports }}{{ .ContainerPort }}/{{ .Protocol }} {{ end }}{{ end }}',
    'app:80/TCP 53/UDP 9090/ istio-proxy:15090/ ',
  ],
  ['{{ (index .containers 0).Nope }}', "ERR can't evaluate field Nope in type v1.Container"],
  [
    '{{ annotation .ann "a" "d" }}',
    'ERR wrong type for value; expected v1.ObjectMeta; got map[string]string',
  ],
  ['{{ indent "2" "x" }}', 'ERR expected integer; found "2"'],
  [
    '{{ isset .vals "x" }}',
    'ERR wrong type for value; expected map[string]string; got map[string]interface {}',
  ],
  [
    '{{ append .vals.z 1 }}',
    'ERR error calling append: runtime error: invalid memory address or nil pointer dereference',
  ],
];

function run(text: string, funcs = injectionFuncs()): string {
  try {
    return compileTemplate(text, funcs).render(DATA);
  } catch (e) {
    return `ERR ${(e as Error).message}`;
  }
}

describe('injection template functions', () => {
  it.each(CASES)('%s', (text, want) => {
    const got = run(text);
    if (want.startsWith('ERR ')) expect(got).toContain(want.slice(4));
    else expect(got).toBe(want);
  });

  it('toYaml writes the same document as sigs.k8s.io/yaml (keys sorted; quoting may differ)', () => {
    // Go prints `x: "1"\n"y": "2"\n` (YAML 1.1 quotes the key y); both read back alike.
    expect(parse(run('{{ toYaml .ann }}'))).toEqual({ x: '1', y: '2' });
    expect(run('{{ toYaml .ann }}').split('\n')[0]).toBe('x: "1"');
    expect(run('{{ toYaml .vals.z }}')).toBe('null\n');
  });

  it('env reads the environment given to the function set, not the process', () => {
    const funcs = injectionFuncs({ env: new Map([['VENDOR', 'acme']]) });
    expect(run('{{ env "VENDOR" "none" }} {{ env "OTHER" "none" }}', funcs)).toBe('acme none');
  });

  it('formatDuration prints time.Duration.String()', () => {
    const s = (sec: number, ns = 0): string =>
      goDurationString(BigInt(sec) * 1000000000n + BigInt(ns));
    expect([s(0), s(90), s(1, 500000000), s(0, 500000000), s(3600 * 3), s(0, 1500), s(-5)]).toEqual(
      ['0s', '1m30s', '1.5s', '500ms', '3h0m0s', '1.5µs', '-5s'],
    );
  });
});

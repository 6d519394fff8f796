/**
 * Go text/template behaviour, case by case. Each row is a template and the exact output Go 1.26's
 * text/template gives for it over DATA (an `EXEC:`/`PARSE:` prefix marks Go's error text), parsed
 * as istiod parses (`template.New("inject")`, no Option) and checked against Go while writing.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate } from '../../../../src/core/template/index.js';
import { fromJsonValue, StrMap, type GoValue } from '../../../../src/core/template/value.js';

const DATA: GoValue = {
  ...(fromJsonValue({
    f: 1500,
    big: 1e6,
    half: 0.5,
    m: { b: 2, a: 1 },
    l: [1, 's', true, null],
    empty: [],
    nilv: null,
    s: 'str',
    t: true,
    z: 0,
    n: { x: { y: 'deep' } },
  }) as Record<string, GoValue>),
  sm: new StrMap({ k: 'v' }),
};

const CASES: readonly (readonly [string, string])[] = [
  ['{{ .s }}', 'str'],
  ['a  {{- .s -}}  b', 'astrb'],
  ['a {{- 3 }}', 'a3'],
  ['{{ -3 }}', '-3'],
  ['{{/* c */}}x', 'x'],
  ['a {{- /* c */ -}} b', 'ab'],
  ['{{ .missing }}', '<no value>'],
  ['{{ .missing.x }}', '<no value>'],
  ['{{ .nilv }}', '<no value>'],
  ['{{ .n.x.y }}', 'deep'],
  [
    "{{ .f }} {{ .big }} {{ .half }} {{ 1.0 }} {{ 1e3 }} {{ 0x1F }} {{ 'a' }}",
    '1500 1e+06 0.5 1 1000 31 97',
  ],
  ['{{ .m }} {{ .l }} {{ .sm }} {{ .empty }}', 'map[a:1 b:2] [1 s true <nil>] map[k:v] []'],
  ['{{ range $k, $v := .m }}{{ $k }}={{ $v }};{{ end }}', 'a=1;b=2;'],
  ['{{ range .empty }}x{{ else }}none{{ end }}', 'none'],
  ['{{ range $i, $e := .l }}{{ $i }}:{{ $e }} {{ end }}', '0:1 1:s 2:true 3:<no value> '],
  ['{{ range 3 }}{{ . }}{{ end }}', '012'],
  [
    '{{ range .l }}{{ if eq . "s" }}{{ break }}{{ end }}{{ . }}{{ end }}',
    'EXEC: template: inject:1:20: executing "inject" at <eq . "s">: error calling eq: incompatible types for comparison: float64 and string',
  ],
  [
    '{{ range .l }}{{ if eq . "s" }}{{ continue }}{{ end }}{{ . }},{{ end }}',
    'EXEC: template: inject:1:20: executing "inject" at <eq . "s">: error calling eq: incompatible types for comparison: float64 and string',
  ],
  ['{{ if .missing }}y{{ else if .s }}s{{ else }}n{{ end }}', 's'],
  ['{{ with .missing }}y{{ else with .s }}{{ . }}{{ end }}', 'str'],
  ['{{ with .s }}{{ . }}{{ end }}', 'str'],
  ['{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}', '2'],
  ['{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}', '21'],
  ['{{ range .l }}{{ $.s }}{{ end }}', 'strstrstrstr'],
  [
    '{{ define "t" }}[{{ . }}]{{ end }}{{ template "t" .s }}{{ template "t" }}',
    '[str][<no value>]',
  ],
  ['{{ block "b" .s }}<{{ . }}>{{ end }}', '<str>'],
  [
    '{{ and 1 0 2 }} {{ and 1 2 }} {{ or 0 "" }} {{ or 0 3 }} {{ not 0 }} {{ and .missing .missing.x }}',
    '0 2  3 true <no value>',
  ],
  ['{{ or .s (index .l 10) }}', 'str'],
  ['{{ eq 1 2 3 1 }} {{ eq .s "str" }} {{ ne 1 2 }} {{ eq .missing "x" }}', 'true true true false'],
  [
    '{{ eq .f 1500 }}',
    'EXEC: template: inject:1:3: executing "inject" at <eq .f 1500>: error calling eq: incompatible types for comparison: float64 and int',
  ],
  ['{{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}', 'true true true false'],
  [
    '{{ index .m "a" }} {{ index .sm "zz" }}|{{ index .m "zz" }} {{ index .l 1 }}',
    '1 |<no value> s',
  ],
  [
    '{{ index .l 9 }}',
    'EXEC: template: inject:1:3: executing "inject" at <index .l 9>: error calling index: index out of range: 9',
  ],
  ['{{ len .s }} {{ len .l }} {{ len .m }} {{ len "h\u00e9llo" }}', '3 4 2 6'],
  ['{{ slice .s 1 3 }} {{ slice .l 1 }}', 'tr [s true <nil>]'],
  ['{{ print 1 2 "a" "b" 3 }} {{ println "x" 1 }}', '1 2ab3 x 1\n'],
  [
    '{{ printf "%d %s %q %v %t %x %X %o %5.2f|%-4s|%04d|%+d %e %g" 3 "s" "q\\"" .l true 255 255 8 3.14159 "ab" 7 5 1234.5678 0.000012 }}',
    '3 s "q\\"" [1 s true <nil>] true ff FF 10  3.14|ab  |0007|+5 1.234568e+03 1.2e-05',
  ],
  [
    '{{ printf "%d %s" .f 3 }} {{ printf "%d" }} {{ printf "%s" "a" "b" }} {{ printf "%v %s" .missing .nilv }}',
    '%!d(float64=1500) %!s(int=3) %!d(MISSING) a%!(EXTRA string=b) <nil> %!s(<nil>)',
  ],
  [
    '{{ printf "%v" .m }} {{ printf "%6.1f|%-6d|%x" .half 42 "hi" }}',
    'map[a:1 b:2]    0.5|42    |6869',
  ],
  [
    '{{ html "<a href=\'x\'>&" }} {{ js "it\'s <b>" }} {{ urlquery "a b&c=d" }}',
    "&lt;a href=&#39;x&#39;&gt;&amp; it\\'s \\u003Cb\\u003E a+b%26c%3Dd",
  ],
  ['{{ "a" | printf "%s-%s" "b" }}', 'b-a'],
  ['{{ .s | len | printf "%d" }}', '3'],
  [
    '{{ .s.x }}',
    'EXEC: template: inject:1:5: executing "inject" at <.s.x>: can\'t evaluate field x in type interface {}',
  ],
  [
    '{{ .nilv.x }}',
    'EXEC: template: inject:1:8: executing "inject" at <.nilv.x>: nil pointer evaluating interface {}.x',
  ],
  ['{{ nofunc }}', 'PARSE: template: inject:1: function "nofunc" not defined'],
  ['{{ if }}{{ end }}', 'PARSE: template: inject:1: missing value for if'],
  ['{{ end }}', 'PARSE: template: inject:1: unexpected {{end}}'],
  ['{{ range .l }}', 'PARSE: template: inject:1: unexpected EOF'],
  ['{{ $u }}', 'PARSE: template: inject:1: undefined variable "$u"'],
  ['{{ break }}', 'PARSE: template: inject:1: {{break}} outside {{range}}'],
  [
    '{{ len 3 }}',
    'EXEC: template: inject:1:3: executing "inject" at <len 3>: error calling len: len of type int',
  ],
  [
    '{{ template "nope" }}',
    'EXEC: template: inject:1:12: executing "inject" at <{{template "nope"}}>: template "nope" not defined',
  ],
  [
    '{{ .s 1 }}',
    'EXEC: template: inject:1:3: executing "inject" at <.s>: s is not a method but has arguments',
  ],
  ['{{ `raw\\n` }} {{ "esc\\tq" }}', 'raw\\n esc\tq'],
  ['{{ 1 | printf "%d" }}', '1'],
  [
    '{{ (printf "%s" .s).x }}',
    'EXEC: template: inject:1:16: executing "inject" at <.s>: can\'t evaluate field x in type string',
  ],
];

function run(text: string): string {
  let t;
  try {
    t = compileTemplate(text);
  } catch (e) {
    return `PARSE: ${(e as Error).message}`;
  }
  try {
    return t.render(DATA);
  } catch (e) {
    return `EXEC: ${(e as Error).message}`;
  }
}

describe('Go text/template semantics', () => {
  it.each(CASES)('%s', (text, want) => {
    expect(run(text)).toBe(want);
  });
});

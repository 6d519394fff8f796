/**
 * compileTemplates: a configuration's templates parsed once, each broken text reported by name
 * with Go's parse error, and a compiled template rendering many data values.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplates } from '../../../../src/core/template/index.js';
import { fromJsonValue } from '../../../../src/core/template/value.js';

describe('compileTemplates', () => {
  it('compiles every text once and renders each over its data', () => {
    const r = compileTemplates({
      a: 'a={{ .x }}',
      b: '{{ define "t" }}<{{ . }}>{{ end }}{{ template "t" .x }}',
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const a = r.templates.get('a');
    const b = r.templates.get('b');
    expect([1, 2].map((x) => a?.render(fromJsonValue({ x })))).toEqual(['a=1', 'a=2']);
    expect(b?.render(fromJsonValue({ x: 'y' }))).toBe('<y>');
  });

  it('reports every broken template by name with Go wording', () => {
    const r = compileTemplates({
      ok: '{{ .x }}',
      unclosed: 'x: {{ if .a }}',
      nofunc: '{{ nope .a }}',
      badvar: 'line1\n{{ $v }}',
    });
    expect(r).toEqual({
      ok: false,
      errors: [
        { name: 'badvar', message: 'template: inject:2: undefined variable "$v"' },
        { name: 'nofunc', message: 'template: inject:1: function "nope" not defined' },
        { name: 'unclosed', message: 'template: inject:1: unexpected EOF' },
      ],
    });
  });

  it('defines in one template are not visible to another (istiod parses each text alone)', () => {
    const r = compileTemplates({ a: '{{ define "t" }}x{{ end }}', b: '{{ template "t" }}' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(() => r.templates.get('b')?.render(null)).toThrow('template "t" not defined');
  });
});

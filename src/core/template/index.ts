/**
 * Go text/template for injection templates: each template text is parsed once into a tree with
 * Istio's function set resolved and compiled once into closures, then rendered per pod over a
 * SidecarTemplateData value. As in
 * istiod (istio/pkg/kube/inject/inject.go, parseDryTemplate), every text is parsed on its own
 * under the name `inject`, so error messages read `template: inject:LINE: ...`.
 */
import { compileSet, type FuncMap } from './exec.js';
import { injectionFuncs, type FuncOptions } from './funcs.js';
import { parseTemplate, TemplateError, type ParsedSet } from './parse.js';
import type { GoValue } from './value.js';

export { TemplateError } from './parse.js';
export { buildTemplateData } from './data.js';
export { injectionFuncs, type FuncOptions } from './funcs.js';
export type { GoValue } from './value.js';

/** istiod parses each injection template as `template.New("inject")`. */
export const ISTIO_TEMPLATE_NAME = 'inject';

export interface CompiledTemplate {
  /** The text it was parsed from. */
  readonly text: string;
  /** Renders over `data`; a Go execution error becomes a TemplateError with Go's wording. */
  render(data: GoValue): string;
}

/** Parses and compiles one template text; a syntax error throws a TemplateError with Go's wording. */
export function compileTemplate(
  text: string,
  funcs: FuncMap = injectionFuncs(),
  name = ISTIO_TEMPLATE_NAME,
): CompiledTemplate {
  const set: ParsedSet = parseTemplate(name, text, (f) => funcs.has(f));
  const render = compileSet(set, funcs);
  return Object.freeze({ text, render });
}

export type CompileResult =
  | { ok: true; templates: ReadonlyMap<string, CompiledTemplate> }
  | { ok: false; errors: { name: string; message: string }[] };

/**
 * Compiles every template of a configuration (`templates:` of the injector config) once. Every
 * broken text is reported, by template name, with Go's parse error.
 */
export function compileTemplates(
  texts: Readonly<Record<string, string>>,
  options: FuncOptions = {},
): CompileResult {
  const funcs = injectionFuncs(options);
  const templates = new Map<string, CompiledTemplate>();
  const errors: { name: string; message: string }[] = [];
  for (const name of Object.keys(texts).sort()) {
    try {
      templates.set(name, compileTemplate(texts[name] ?? '', funcs));
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errors.push({ name, message: e.message });
    }
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, templates };
}

/**
 * The injection templates of one configuration, compiled once at load: the configuration's
 * `templates:` texts (plus values `sidecarInjectorWebhook.templates`) run through the Go template
 * engine, exactly as istiod parses and executes them (istio/pkg/kube/inject/inject.go,
 * ParseTemplates and RunTemplate). A native renderer replaces the engine only for a text whose
 * hash is listed in NATIVE_FAST_PATHS, where the two are proven to give the same pod
 * (test/unit/core/pipeline/fast-path.test.ts). A configuration without any `templates:` uses the
 * embedded built-ins: the native renderers.
 */
import { createHash } from 'node:crypto';
import { InjectorError } from '../../errors.js';
import { KEY } from '../annotations/keys.js';
import type { RenderContext, RenderedTemplate } from '../contracts.js';
import { getPath, isJsonObject, type JsonObject, type JsonValue } from '../json.js';
import { BUILTIN_RENDERERS, isBuiltinTemplate, type BuiltinTemplateName } from '../render/index.js';
import {
  buildTemplateData,
  compileTemplates,
  TemplateError,
  type CompiledTemplate,
} from '../template/index.js';
import { parseYamlDocument } from '../yaml.js';
import { goPlainValue, readTemplateYaml } from '../yaml-fast.js';
import { memoByIdentity } from '../bounded-cache.js';

export type InjectionTemplate =
  | {
      readonly kind: 'native';
      readonly name: BuiltinTemplateName;
      /** The configuration's text it stands for; it runs instead for pods outside the proof. */
      readonly compiled?: CompiledTemplate;
    }
  | { readonly kind: 'engine'; readonly compiled: CompiledTemplate };

/** Template name -> how it runs. */
export type TemplateSet = ReadonlyMap<string, InjectionTemplate>;

/**
 * sha256 of a template text (trailing whitespace removed: it only changes the rendered text's
 * trailing whitespace, which YAML ignores) -> the native renderer proven identical for it.
 * The texts are Istio master's chart files (identical for grpc-simple in 1.30.3 and 1.29.6);
 * master's gateway and grpc-agent are not proven identical and run through the engine.
 */
export const NATIVE_FAST_PATHS: ReadonlyMap<string, BuiltinTemplateName> = new Map([
  ['c42c60b82d5847ba2958ee20aea5bd1ee69ff4db4f6b4f769d1a517a5199e079', 'sidecar'],
  ['d06a1a954ca7bc861bc988215a60347b9a40d2e4d92f6a0c3d4c146681c39f4e', 'grpc-simple'],
]);

export function templateTextHash(text: string): string {
  return createHash('sha256').update(text.trimEnd()).digest('hex');
}

/** The embedded built-ins, used when the configuration carries no template text. */
export const EMBEDDED_TEMPLATES: TemplateSet = new Map(
  (Object.keys(BUILTIN_RENDERERS) as BuiltinTemplateName[]).map((name) => [
    name,
    { kind: 'native', name } as const,
  ]),
);

export interface TemplateSetOptions {
  /** false: every text runs through the engine, even a proven one (the fast-path proof). */
  nativeFastPath?: boolean;
  /** What the templates' `env` function reads (istiod's environment). */
  env?: ReadonlyMap<string, string>;
}

export type TemplateSetResult =
  { ok: true; templates: TemplateSet } | { ok: false; issues: { path: string; message: string }[] };

/**
 * Compiles `texts` (name -> Go template text) once. Every broken text is reported under
 * `config.templates.<name>` with Go's parse error, as istiod refuses such a configuration.
 */
export function buildTemplateSet(
  texts: Readonly<Record<string, string>>,
  options: TemplateSetOptions = {},
): TemplateSetResult {
  const compiled = compileTemplates(texts, options.env ? { env: options.env } : {});
  if (!compiled.ok) {
    return {
      ok: false,
      issues: compiled.errors.map((e) => ({
        path: `config.templates.${e.name}`,
        message: `failed to parse template: ${e.message}`,
      })),
    };
  }
  const set = new Map<string, InjectionTemplate>();
  for (const [name, template] of compiled.templates) {
    const native =
      options.nativeFastPath === false
        ? undefined
        : NATIVE_FAST_PATHS.get(templateTextHash(template.text));
    set.set(
      name,
      native !== undefined && native === name && isBuiltinTemplate(native)
        ? { kind: 'native', name: native, compiled: template }
        : { kind: 'engine', compiled: template },
    );
  }
  return { ok: true, templates: set };
}

/**
 * One template's output: `typed` as istiod's typed pod holds it, and `overlay` as its text reads
 * (zero values kept), which istiod merges into the pod (inject.go applyOverlayYAML:
 * StrategicMergePatchYAML of the text, then the typed decoding). The two differ only where the
 * text writes a zero value; the builtin renderers give the typed output for both.
 */
export interface TemplateOutput {
  typed: RenderedTemplate;
  overlay: RenderedTemplate;
}

/**
 * Runs one template for a pod; `asWritten` runs a template's text even where a builtin renderer
 * is proven to give the same typed output, for the overlay as written. The engine's text is
 * parsed as YAML the way istiod reads it (sigs.k8s.io/yaml over go-yaml v2: YAML 1.1 plain
 * scalars, so `on` is true and `0755` is 493; a repeated key's last value wins) into the partial
 * pod the pipeline merges.
 * istio/pkg/kube/inject/inject.go RunTemplate -> applyOverlayYAML (StrategicMergePatchYAML).
 */
export function runTemplate(
  name: string,
  template: InjectionTemplate,
  ctx: RenderContext,
  asWritten = false,
): TemplateOutput {
  const compiled = template.compiled;
  if (
    template.kind === 'native' &&
    (compiled === undefined ||
      (!asWritten && provenForNative(ctx.pod.metadata?.annotations) && configProvenForNative(ctx)))
  ) {
    // Through the same typed view as the engine's output: a value the configuration leaves
    // empty (`global.pilotCertProvider: ""`) is an omitted EnvVar.value in istiod's pod too.
    const typed = goTyped(BUILTIN_RENDERERS[template.name](ctx)) as RenderedTemplate;
    return { typed, overlay: typed };
  }
  if (compiled === undefined) throw new Error(`template ${name} has neither renderer nor text`);
  let text: string;
  try {
    text = compiled.render(buildTemplateData(ctx));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    throw renderError(name, `failed to run injection template: ${e.message}`);
  }
  // The fast reader handles what the templates write; anything else goes to the full parser.
  const fast = readTemplateYaml(text);
  const parsed =
    fast !== undefined
      ? ({ ok: true, value: fast } as const)
      : parseYamlDocument(text, { uniqueKeys: false, resolution: 'go' });
  if (!parsed.ok) {
    throw renderError(
      name,
      `failed parsing generated injected YAML (check Istio version): ${parsed.errors[0] ?? ''}`,
    );
  }
  const value = parsed.value;
  if (value === null || value === undefined) return { typed: {}, overlay: {} };
  if (!isJsonObject(value)) {
    throw renderError(
      name,
      'failed parsing generated injected YAML (check Istio version): not a map',
    );
  }
  // One walk types the value and notices a string field holding structure; only then is the
  // first such path looked for, for the error.
  const check = { seen: false };
  const typed = goTyped(value, '', check);
  const typeError = check.seen ? stringFieldError(value, '') : undefined;
  if (typeError !== undefined) {
    throw renderError(
      name,
      `failed parsing generated injected YAML (check Istio version): json: cannot unmarshal ${typeError}`,
    );
  }
  return { typed: typed as RenderedTemplate, overlay: value };
}

/** A value as k8s.io/api's typed structs hold it (the zero-value omissions of goTyped). */
export function typedView(value: JsonValue): JsonValue {
  return goTyped(value);
}

/**
 * String fields of k8s.io/api the templates write from annotations or values (every field of the
 * Pod API under these names is a string: EnvVar.value, HTTPHeader.value, Toleration.value and
 * Sysctl.value included), string lists, and the string maps of ObjectMeta.
 */
const STRING_FIELDS = new Set([
  'name',
  'value',
  'image',
  'mountPath',
  'subPath',
  'imagePullPolicy',
  'audience',
  'secretName',
]);
const STRING_LISTS = new Set(['args', 'command']);
const STRING_MAPS = new Set(['annotations', 'labels']);

function kindOf(v: JsonValue): string {
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'bool' : 'number';
}

/** ObjectMeta's annotations and labels are map[string]string: every value a string (or null). */
function stringMapError(map: JsonObject, at: string): string | undefined {
  for (const [k, v] of Object.entries(map)) {
    if (v !== null && v !== undefined && typeof v !== 'string')
      return `${kindOf(v)} into a string at ${at}.${k}`;
  }
  return undefined;
}

/**
 * istiod decodes the rendered YAML into a typed corev1.Pod (encoding/json), which fails when a
 * value that must be a string is a map or a list (how an annotation value that smuggles YAML or
 * JSON would add structure), or a bool or a number (a plain `on`, `yes` or `0755` that a value
 * or annotation printed unquoted becomes in YAML 1.1). A null is the field's zero value there.
 * The same refusal here; the first offending path, or undefined.
 */
function stringFieldError(value: JsonValue, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const e = stringFieldError(value[i] as JsonValue, `${path}[${i}]`);
      if (e !== undefined) return e;
    }
    return undefined;
  }
  if (!isJsonObject(value)) return undefined;
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || v === null) continue;
    const at = `${path}.${k}`;
    if (STRING_FIELDS.has(k) && typeof v !== 'string') return `${kindOf(v)} into a string at ${at}`;
    if (STRING_LISTS.has(k) && Array.isArray(v)) {
      const i = v.findIndex((e) => e !== null && typeof e !== 'string');
      if (i >= 0) return `${kindOf(v[i] as JsonValue)} into a string at ${at}[${i}]`;
      continue;
    }
    if (STRING_MAPS.has(k) && isJsonObject(v) && path === '.metadata') {
      const e = stringMapError(v, at);
      if (e !== undefined) return e;
      continue;
    }
    const e = stringFieldError(v, at);
    if (e !== undefined) return e;
  }
  return undefined;
}

/**
 * istiod decodes the rendered YAML into a typed corev1.Pod before merging, so zero values of
 * k8s.io/api's non-pointer `omitempty` fields vanish: the probe counters and an empty
 * EnvVar.value (k8s.io/api/core/v1/types.go).
 */
const OMITEMPTY_INTS = new Set([
  'initialDelaySeconds',
  'periodSeconds',
  'timeoutSeconds',
  'successThreshold',
  'failureThreshold',
]);

/**
 * The typed view of a rendered value. With `check`, also notes (`check.seen`) whether a field
 * that must be a string may hold something else (mayBreakStringField).
 */
function goTyped(value: JsonValue, key = '', check?: { seen: boolean }): JsonValue {
  if (Array.isArray(value)) return value.map((v) => goTyped(v, key, check));
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  const envEntry = key === 'env';
  for (const k of Object.keys(value)) {
    const v = value[k];
    if (v === undefined) continue;
    if (check !== undefined && v !== null && typeof v !== 'string' && mayBreakStringField(k, v))
      check.seen = true;
    if (OMITEMPTY_INTS.has(k) && v === 0) continue;
    if (envEntry && k === 'value' && v === '') continue;
    out[k] = goTyped(v, k, check);
  }
  return out;
}

/**
 * Whether field `k`, holding a value other than a string or null, may be what stringFieldError
 * refuses: a string field, a string list or an ObjectMeta string map with a non-string in it. A
 * superset of its findings (the map check ignores the path), so the exact walk runs whenever
 * that one could find something.
 */
function mayBreakStringField(k: string, v: JsonValue): boolean {
  if (STRING_FIELDS.has(k)) return true;
  const nonString = (e: JsonValue | undefined): boolean =>
    e !== null && e !== undefined && typeof e !== 'string';
  if (STRING_LISTS.has(k)) return Array.isArray(v) && v.some(nonString);
  return STRING_MAPS.has(k) && isJsonObject(v) && Object.values(v).some(nonString);
}

/**
 * The domain of the fast-path proof: annotation values made only of characters that are plain
 * YAML scalars wherever a template writes them (no quotes, spaces, newlines, flow or comment
 * indicators, `*` aliases or `: `), and a boolean nativeSidecar switch. A pod with any other
 * value (hostile text, JSON, `*`) runs through the engine, as istiod would run it, text and all.
 */
const PLAIN_VALUE = /^[A-Za-z0-9._/=,+@-]*(?::[A-Za-z0-9._/=,+@-]+)*$/;

function provenForNative(annotations: Readonly<Record<string, string>> | undefined): boolean {
  if (annotations === undefined) return true;
  for (const [key, value] of Object.entries(annotations)) {
    if (!PLAIN_VALUE.test(value)) return false;
    if (key === KEY.nativeSidecar && value !== 'true' && value !== 'false') return false;
  }
  return true;
}

/**
 * Values the chart's templates print unquoted (`value: {{ .Values.global.pilotCertProvider }}`,
 * `- name: {{ . }}` for each pull secret), so that istiod reads them back with YAML 1.1 rules.
 */
const UNQUOTED_VALUES = [
  'global.pilotCertProvider',
  'global.caAddress',
  'global.sds.token.aud',
  'global.trustBundleName',
  'pilot.crlConfigMapName',
] as const;

/** A value printed unquoted that reads back as the same plain string (or is left empty). */
function readsBackAsItself(v: JsonValue | undefined): boolean {
  if (v === undefined || v === null || v === '') return true;
  return typeof v === 'string' && PLAIN_VALUE.test(v) && typeof goPlainValue(v) === 'string';
}

const valuesProvenForNative = memoByIdentity((values: RenderContext['values']): boolean => {
  for (const path of UNQUOTED_VALUES) if (!readsBackAsItself(getPath(values, path))) return false;
  const secrets = getPath(values, 'global.imagePullSecrets');
  if (Array.isArray(secrets) && !secrets.every((s) => isJsonObject(s) || readsBackAsItself(s)))
    return false;
  return true;
});

/**
 * The rest of the proof's domain: the values above, and proxy metadata names (each printed as
 * `- name: {{ $key }}`), read back as themselves. Otherwise the engine runs, and refuses the pod
 * where istiod's typed decoding would (`name: on` is a bool there).
 */
function configProvenForNative(ctx: RenderContext): boolean {
  if (!valuesProvenForNative(ctx.values)) return false;
  const metadata = ctx.proxyConfig.proxyMetadata;
  if (metadata === undefined || metadata === null) return true;
  for (const key of Object.keys(metadata)) if (!readsBackAsItself(key)) return false;
  return true;
}

function renderError(name: string, message: string): InjectorError {
  return new InjectorError('INJ_ERR_TEMPLATE_RENDER', message, {
    details: [{ field: `template ${name}`, reason: message }],
  });
}

/**
 * Whether a template set can make a pod's `metadata.name` show in what it renders. The
 * injection reuses a result across pods that differ only in their names (the replicas of one
 * ReplicaSet) only when it cannot (src/core/inject.ts). The native renderers never read it (they
 * read annotations, labels and the spec; the deployment name comes from DeploymentMeta). An
 * engine text is checked conservatively, action by action: it must reach ObjectMeta only as
 * `.ObjectMeta.Annotations`, `.Labels` or `.Namespace`, or as the argument of the `annotation`
 * function (which reads the annotations alone), and never use the bare `.` or `$` (which could
 * hand the whole data, name included, to `toJson`, `index` or a nested template).
 */
export function templateSetReadsPodName(templates: TemplateSet): boolean {
  const known = readsPodNameBySet.get(templates);
  if (known !== undefined) return known;
  let reads = false;
  for (const template of templates.values()) {
    if (template.compiled !== undefined && textReadsPodName(template.compiled.text)) reads = true;
  }
  readsPodNameBySet.set(templates, reads);
  return reads;
}

const readsPodNameBySet = new WeakMap<TemplateSet, boolean>();

const OBJECT_META_USE =
  /(annotation\s+)?\.ObjectMeta(?:\.(Annotations|Labels|Namespace)(?![A-Za-z0-9_]))?/g;
const BARE_DOT = /(?:^|[^A-Za-z0-9_)\]])\.(?![A-Za-z_])/;
const BARE_ROOT = /\$(?![A-Za-z0-9_.])/;
const KEYWORD = /^\s*(range|with|if|define|block|else|end|template)\b\s*(with|if)?/;

/**
 * True unless every action of `text` is known not to reach the pod's name. A bare `.` is
 * allowed where it is not the root data: inside `range` and `with` (an element or the value
 * selected), and as the argument of `template` (the defined body is checked here too, with its
 * dot taken as the root).
 */
export function textReadsPodName(text: string): boolean {
  // Per open block: whether `.` is the root data there.
  const dotIsRoot: boolean[] = [true];
  const current = () => dotIsRoot[dotIsRoot.length - 1] ?? true;
  let i = 0;
  for (;;) {
    const open = text.indexOf('{{', i);
    if (open === -1) return false;
    const comment = /^-?\s*\/\*/.exec(text.slice(open + 2, open + 6));
    if (comment) {
      const close = text.indexOf('*/', open + 2);
      const end = close === -1 ? -1 : text.indexOf('}}', close + 2);
      if (end === -1) return true;
      i = end + 2;
      continue;
    }
    const action = actionText(text, open + 2);
    if (action === undefined) return true;
    i = action.end;
    const body = action.body.replace(/^-\s/, '').replace(/\s-$/, '');
    const keyword = KEYWORD.exec(body);
    if (actionReadsPodName(body, keyword?.[1], current())) return true;
    if (!enterOrLeave(dotIsRoot, keyword)) return true;
  }
}

/** Whether one action's body can reach the pod's name, given whether `.` is the root there. */
function actionReadsPodName(body: string, word: string | undefined, dotIsRoot: boolean): boolean {
  if (word !== 'template' && dotIsRoot && BARE_DOT.test(body)) return true;
  if (word !== 'template' && BARE_ROOT.test(body)) return true;
  for (const m of body.matchAll(OBJECT_META_USE)) {
    if (m[1] === undefined && m[2] === undefined) return true;
    // `annotation .ObjectMeta` passes ObjectMeta itself; anything after it must not select.
    if (m[1] !== undefined && m[2] === undefined && body.charAt(m.index + m[0].length) === '.')
      return true;
  }
  return body.replace(OBJECT_META_USE, '').includes('ObjectMeta');
}

/** Tracks the open blocks' dots; false when an `end` closes more blocks than were opened. */
function enterOrLeave(dotIsRoot: boolean[], keyword: RegExpExecArray | null): boolean {
  const word = keyword?.[1];
  const current = dotIsRoot[dotIsRoot.length - 1] ?? true;
  if (word === 'range' || word === 'with') dotIsRoot.push(false);
  else if (word === 'if') dotIsRoot.push(current);
  else if (word === 'define' || word === 'block') dotIsRoot.push(true);
  else if (word === 'end') {
    dotIsRoot.pop();
    return dotIsRoot.length > 0;
  } else if (word === 'else') {
    // `else` and `else if` see the enclosing block's dot; `else with` selects a new one.
    const outer = dotIsRoot[dotIsRoot.length - 2] ?? true;
    dotIsRoot[dotIsRoot.length - 1] = keyword?.[2] === 'with' ? false : outer;
  }
  return true;
}

/**
 * The text of one action from `start` (after `{{`) to its `}}`, string and character literals
 * blanked to `""`; undefined when it does not end (the engine refuses such a text anyway).
 */
function actionText(text: string, start: number): { body: string; end: number } | undefined {
  let body = '';
  let i = start;
  while (i < text.length) {
    const c = text.charAt(i);
    if (c === '}' && text.charAt(i + 1) === '}') return { body, end: i + 2 };
    if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text.charAt(j) !== c)
        j += c !== '`' && text.charAt(j) === '\\' ? 2 : 1;
      if (j >= text.length) return undefined;
      body += '""';
      i = j + 1;
      continue;
    }
    body += c;
    i++;
  }
  return undefined;
}

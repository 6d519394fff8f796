/**
 * The data an injection template sees: istiod's SidecarTemplateData
 * (istio/pkg/kube/inject/inject.go), with Go's field names. Kubernetes objects become structs with
 * Go field names (`.Spec.Containers`, `$c.Ports`, `.ContainerPort`) whose JSON form is the
 * object's own; ProxyConfig and MeshConfig become protobuf structs whose Go names the template
 * reads (`.ProxyConfig.ProxyMetadata`, `.ProxyConfig.GetTracing.GetTlsSettings`) while
 * `protoToJSON` writes protobuf JSON names.
 */
import type { RenderContext } from '../contracts.js';
import type { JsonObject } from '../json.js';
import { memoByIdentity } from '../bounded-cache.js';
import { parseFieldTable } from '../field-table.js';
import { goFieldName, K8S_STRUCTS } from '../k8s-structs.js';
import { orderedJson as goJson } from '../pipeline/container-json.js';
import { cleanProxyConfig, proxyImage, proxyInitImage } from '../render/index.js';
import {
  fromJsonValue,
  GoEnum,
  GoStruct,
  StrMap,
  type GoStructType,
  type GoValue,
} from './value.js';

type FieldKind = 's' | 'i' | 'b' | 'm' | 'any' | `[${string}` | `*${string}`;

/** Go field name, JSON name, kind. Kinds: string, int, bool, map[string]string, a struct list. */
type Schema = readonly (readonly [string, string, FieldKind])[];

/** Template kind of a k8s-structs field: scalars as Go values, listed struct lists as structs. */
function kindOf(shape: string): FieldKind {
  if (shape === 's' || shape === 'i' || shape === 'b') return shape;
  if (shape === '{}') return 'm';
  if (shape.startsWith('[]')) {
    const elem = shape.slice(2);
    return MODELLED.has(elem) ? `[v1.${elem}` : 'any';
  }
  // A struct value is read like a pointer to it: absent, it is nil.
  if (shape === '*s' || shape === '*i' || shape === '*b') return '*v1.Object';
  return `*v1.${shape.replace(/^\*/, '')}`;
}

/** The structs a template reads field by field; their fields come from K8S_STRUCTS. */
const MODELLED = new Set(['Container', 'ContainerPort']);

function k8sSchema(type: string): Schema {
  return (K8S_STRUCTS[type] ?? []).map((f) => [goFieldName(f), f[0], kindOf(f[1])] as const);
}

const FIELD_KINDS = new Set(['s', 'i', 'b', 'm', 'any']);

function isFieldKind(kind: string): kind is FieldKind {
  return FIELD_KINDS.has(kind) || kind.startsWith('[') || kind.startsWith('*');
}

/**
 * A struct's fields as `json:kind`, with `GoName=` before the JSON name where the Go name is not
 * the capitalised JSON name.
 */
export function templateSchema(struct: string, text: string): Schema {
  return parseFieldTable(struct, text, { alias: true }).map(({ name, type, alias }) => {
    if (!isFieldKind(type)) {
      throw new Error(
        `field table ${struct}: entry "${name}:${type}" has an unknown kind (s, i, b, m, any, [T or *T)`,
      );
    }
    return [goFieldName([name, type, false, alias]), name, type] as const;
  });
}

const CONTAINER_PORT: Schema = k8sSchema('ContainerPort');
const CONTAINER: Schema = k8sSchema('Container');

const POD_SPEC = templateSchema(
  'v1.PodSpec',
  `
    volumes:any initContainers:[v1.Container containers:[v1.Container ephemeralContainers:any
    restartPolicy:s terminationGracePeriodSeconds:*int64 activeDeadlineSeconds:*int64
    DNSPolicy=dnsPolicy:s nodeSelector:m serviceAccountName:s
    DeprecatedServiceAccount=serviceAccount:s automountServiceAccountToken:*bool nodeName:s
    hostNetwork:b hostPID:b hostIPC:b shareProcessNamespace:*bool
    securityContext:*v1.PodSecurityContext imagePullSecrets:any hostname:s subdomain:s
    affinity:*v1.Affinity schedulerName:s tolerations:any hostAliases:any priorityClassName:s
    priority:*int32 DNSConfig=dnsConfig:*v1.PodDNSConfig readinessGates:any
    runtimeClassName:*string enableServiceLinks:*bool preemptionPolicy:*v1.PreemptionPolicy
    overhead:any topologySpreadConstraints:any setHostnameAsFQDN:*bool OS=os:*v1.PodOS
    hostUsers:*bool schedulingGates:any resourceClaims:any resources:*v1.ResourceRequirements
    hostnameOverride:*string schedulingGroup:*v1.PodSchedulingGroup
  `,
);

const OBJECT_META = templateSchema(
  'v1.ObjectMeta',
  `
    name:s generateName:s namespace:s selfLink:s UID=uid:s resourceVersion:s generation:i
    creationTimestamp:any deletionTimestamp:any deletionGracePeriodSeconds:*int64 labels:m
    annotations:m ownerReferences:any finalizers:any managedFields:any
  `,
);

const TYPE_META = templateSchema('v1.TypeMeta', 'kind:s APIVersion=apiVersion:s');
const NAMESPACED_NAME = templateSchema('types.NamespacedName', 'namespace:s name:s');

const SCHEMAS: Readonly<Record<string, Schema>> = {
  'v1.ContainerPort': CONTAINER_PORT,
  'v1.Container': CONTAINER,
};

/** A decoded Kubernetes value below the modelled structs: objects as structs of upper-cased keys. */
function genericK8s(v: unknown, typeName: string): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return Object.freeze(v.map((e) => genericK8s(e, typeName)));
  const fields = Object.create(null) as Record<string, GoValue>;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    fields[k.charAt(0).toUpperCase() + k.slice(1)] = genericK8s(e, '*v1.Object');
  }
  return new GoStruct({ name: typeName }, Object.freeze(fields), v);
}

function fieldValue(kind: FieldKind, raw: unknown): GoValue {
  switch (kind) {
    case 's':
      return typeof raw === 'string' ? raw : '';
    case 'i':
      return typeof raw === 'number' ? raw : 0;
    case 'b':
      return raw === true;
    case 'm':
      return raw !== null && typeof raw === 'object'
        ? new StrMap(Object.freeze({ ...(raw as Record<string, string>) }))
        : new StrMap({}, true);
    case 'any':
      return raw === undefined ? null : genericK8s(raw, '[]interface {}');
    default:
      break;
  }
  if (kind.startsWith('[')) {
    const t = kind.slice(1);
    return Array.isArray(raw) ? Object.freeze(raw.map((e) => k8sStruct(t, e))) : null;
  }
  if (raw === undefined || raw === null) return null;
  return genericK8s(raw, kind);
}

const UNSET: unique symbol = Symbol('unset');

/** A Kubernetes object as the Go struct `typeName`; its JSON form stays the object itself. */
function k8sStruct(
  typeName: string,
  raw: unknown,
  schema: Schema | undefined = SCHEMAS[typeName],
): GoStruct {
  const obj = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const fields = Object.create(null) as Record<string, GoValue>;
  for (const [go, json, kind] of schema ?? []) {
    const raw = obj[json];
    if ((kind === 'any' || kind.startsWith('*')) && raw !== undefined && raw !== null) {
      // Converted on first read: most of a pod (env, mounts, probes) is never read by a template.
      let memo: GoValue | typeof UNSET = UNSET;
      Object.defineProperty(fields, go, {
        enumerable: true,
        get: () => (memo === UNSET ? (memo = fieldValue(kind, raw)) : memo),
      });
    } else {
      fields[go] = fieldValue(kind, raw);
    }
  }
  const goType = typeName.slice('v1.'.length);
  // A modelled struct prints as encoding/json prints the decoded corev1 value (unknown fields
  // gone, nested structs in declaration order); the others keep the object's own fields.
  const json = MODELLED.has(goType)
    ? () => goJson(goType, obj as JsonObject)
    : () => orderedJson(schema, obj);
  return new GoStruct({ name: typeName }, Object.freeze(fields), json);
}

/** encoding/json writes struct fields in declaration order, empty ones (omitempty) left out. */
function orderedJson(schema: Schema | undefined, obj: Record<string, unknown>): unknown {
  if (schema === undefined) return obj;
  const out: Record<string, unknown> = {};
  for (const [go, json] of schema) {
    const v = obj[json];
    // containerPort carries no omitempty in k8s.io/api.
    if (go === 'ContainerPort') out[json] = v ?? 0;
    else if (v !== undefined && v !== null && v !== '' && v !== 0 && v !== false) out[json] = v;
  }
  for (const [k, v] of Object.entries(obj))
    if (!Object.hasOwn(out, k) && !schema.some(([, j]) => j === k)) out[k] = v;
  return out;
}

// --- protobuf messages -------------------------------------------------------------------------

const INTERCEPTION_MODES = ['REDIRECT', 'TPROXY', 'NONE'];

/** Go name of a protobuf JSON field (`proxyMetadata` -> `ProxyMetadata`). */
function protoGoName(json: string): string {
  return json.charAt(0).toUpperCase() + json.slice(1);
}

/** ProxyConfig fields templates may read though unset, with their Go zero values. */
function proxyConfigZero(): Record<string, GoValue> {
  return {
    ConfigPath: '',
    BinaryPath: '',
    ServiceCluster: '',
    DrainDuration: null,
    DiscoveryAddress: '',
    ProxyAdminPort: 0,
    ControlPlaneAuthPolicy: 0,
    StatNameLength: 0,
    Concurrency: nilMessage('*wrapperspb.Int32Value'),
    InterceptionMode: new GoEnum('REDIRECT', 0),
    Tracing: nilMessage('*v1alpha1.Tracing'),
    ProxyMetadata: new StrMap({}, true),
    StatusPort: 0,
    TerminationDrainDuration: null,
    MeshId: '',
    HoldApplicationUntilProxyStarts: nilMessage('*wrapperspb.BoolValue'),
    Image: nilMessage('*v1alpha1.ProxyImage'),
    CaCertificatesPem: null,
  };
}

function protoType(name: string): GoStructType {
  // Protobuf getters: `GetX` reads field X and is safe on a nil message.
  return {
    name,
    methods: new Proxy(Object.create(null) as Record<string, (s: GoStruct) => GoValue>, {
      get(_t, key) {
        if (typeof key !== 'string' || !key.startsWith('Get')) return undefined;
        const field = key.slice(3);
        return (self: GoStruct) => {
          if (self.isNil || !Object.hasOwn(self.fields, field)) {
            // A nil message's getters return zero values: nil for messages, "" for strings.
            return field === 'Value' ? false : nilMessage(`*v1alpha1.${field}`);
          }
          return self.fields[field];
        };
      },
      has(_t, key) {
        return typeof key === 'string' && key.startsWith('Get');
      },
    }),
  };
}

const NIL_MESSAGES = new Map<string, GoStruct>();
function nilMessage(name: string): GoValue {
  // Leaf getters used by the chart (`GetCaCertificates`) are strings.
  if (name.endsWith('CaCertificates')) return '';
  let m = NIL_MESSAGES.get(name);
  if (m === undefined) {
    m = new GoStruct(
      protoType(name),
      Object.freeze(Object.create(null) as Record<string, GoValue>),
      null,
      true,
    );
    NIL_MESSAGES.set(name, m);
  }
  return m;
}

function wrapper(name: string, v: unknown): GoValue {
  if (v === undefined || v === null) return nilMessage(name);
  const fields = Object.create(null) as Record<string, GoValue>;
  fields['Value'] = typeof v === 'number' ? v : v === true;
  return new GoStruct(protoType(name), Object.freeze(fields), v);
}

/** "1.5s" / "90s" (protobuf JSON) -> Duration{Seconds, Nanos}. */
function duration(v: unknown): GoValue {
  if (typeof v !== 'string') return null;
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(v);
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  const fields = Object.create(null) as Record<string, GoValue>;
  fields['Seconds'] = sign * Number(m[2]);
  fields['Nanos'] = sign * Number((m[3] ?? '').padEnd(9, '0'));
  return new GoStruct(protoType('*durationpb.Duration'), Object.freeze(fields), v);
}

const DURATION_FIELDS = new Set([
  'drainDuration',
  'terminationDrainDuration',
  'parentShutdownDuration',
  'discoveryRefreshDelay',
  'fileFlushInterval',
]);

function protoValue(v: unknown, typeName: string): GoValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return Object.freeze(v.map((e) => protoValue(e, typeName)));
  const fields = Object.create(null) as Record<string, GoValue>;
  for (const [k, e] of Object.entries(v as Record<string, unknown>)) {
    fields[protoGoName(k)] = protoValue(e, `*v1alpha1.${protoGoName(k)}`);
  }
  return new GoStruct(protoType(typeName), Object.freeze(fields), v);
}

function proxyConfigStruct(pc: JsonObject): GoStruct {
  const fields = Object.create(null) as Record<string, GoValue>;
  Object.assign(fields, proxyConfigZero());
  for (const [k, v] of Object.entries(pc)) {
    const go = protoGoName(k);
    if (k === 'interceptionMode') {
      const mode = typeof v === 'string' ? v : 'REDIRECT';
      fields[go] = new GoEnum(mode, Math.max(0, INTERCEPTION_MODES.indexOf(mode)));
    } else if (k === 'holdApplicationUntilProxyStarts')
      fields[go] = wrapper('*wrapperspb.BoolValue', v);
    else if (k === 'concurrency') fields[go] = wrapper('*wrapperspb.Int32Value', v);
    else if (k === 'proxyMetadata' || k === 'runtimeValues') {
      fields[go] = new StrMap(Object.freeze({ ...((v ?? {}) as Record<string, string>) }));
    } else if (DURATION_FIELDS.has(k)) fields[go] = duration(v);
    else if (k === 'tracing' && (v === null || v === undefined))
      fields[go] = nilMessage('*v1alpha1.Tracing');
    else fields[go] = protoValue(v, `*v1alpha1.${go}`);
  }
  // The struct is built once per resolved proxy config (proxyConfigOf): its JSON text too.
  let json: string | undefined;
  const protoJSON = () => (json ??= JSON.stringify(cleanProxyConfig(pc)));
  const methods = protoType('*v1alpha1.ProxyConfig').methods as Record<
    string,
    (s: GoStruct) => GoValue
  >;
  const type: GoStructType = {
    name: '*v1alpha1.ProxyConfig',
    methods: new Proxy(methods, {
      get(t, key) {
        if (key === '__protoJSON') return protoJSON;
        return t[key as string];
      },
    }),
  };
  return new GoStruct(type, Object.freeze(fields), pc);
}

function meshConfigStruct(mesh: JsonObject): GoStruct {
  const fields = Object.create(null) as Record<string, GoValue>;
  fields['TrustDomain'] = '';
  fields['RootNamespace'] = '';
  fields['ProxyListenPort'] = 0;
  fields['ProxyInboundListenPort'] = 0;
  for (const [k, v] of Object.entries(mesh)) {
    const go = protoGoName(k);
    if (k === 'defaultConfig' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      fields[go] = proxyConfigStruct(v);
    } else if (k === 'enablePrometheusMerge') fields[go] = wrapper('*wrapperspb.BoolValue', v);
    else fields[go] = protoValue(v, `*v1alpha1.${go}`);
  }
  return new GoStruct(protoType('*v1alpha1.MeshConfig'), Object.freeze(fields), mesh);
}

// --- the whole data value ----------------------------------------------------------------------

/** `.Values` as Go's map[string]any from JSON (numbers are float64); converted once per object. */
const valuesOf = memoByIdentity((values: JsonObject): GoValue => fromJsonValue(values));

/** The resolved proxy config is often shared by many pods (no per-pod annotation). */
const proxyConfigOf = memoByIdentity(proxyConfigStruct);

const meshOf = memoByIdentity(meshConfigStruct);

const SIDECAR_TEMPLATE_DATA: GoStructType = { name: '*inject.SidecarTemplateData' };

/**
 * SidecarTemplateData for one render, from the same inputs the native renderers take. Values and
 * mesh are converted once per configuration object (cached by identity); the pod parts per call.
 */
export function buildTemplateData(ctx: RenderContext): GoStruct {
  const meta = (ctx.pod.metadata ?? {}) as Record<string, unknown>;
  const annotations = ctx.pod.metadata?.annotations ?? {};
  const fields = Object.create(null) as Record<string, GoValue>;
  fields['TypeMeta'] = k8sStruct(
    'v1.TypeMeta',
    { kind: ctx.typeMeta.kind, apiVersion: ctx.typeMeta.apiVersion },
    TYPE_META,
  );
  fields['DeploymentMeta'] = k8sStruct('types.NamespacedName', ctx.deploymentMeta, NAMESPACED_NAME);
  fields['ObjectMeta'] = k8sStruct('v1.ObjectMeta', meta, OBJECT_META);
  fields['Spec'] = k8sStruct('v1.PodSpec', ctx.pod.spec ?? {}, POD_SPEC);
  fields['ProxyConfig'] = proxyConfigOf(ctx.proxyConfig);
  fields['MeshConfig'] = meshOf(ctx.mesh);
  fields['Values'] = valuesOf(ctx.values);
  fields['Revision'] = ctx.revision;
  fields['NativeSidecars'] = ctx.nativeSidecars;
  fields['ProxyImage'] = proxyImage({
    values: ctx.values,
    proxyConfig: ctx.proxyConfig,
    annotations,
  });
  fields['ProxyInitImage'] = proxyInitImage({ values: ctx.values, annotations });
  fields['ProxyUID'] = ctx.proxyUID;
  fields['ProxyGID'] = ctx.proxyGID;
  fields['InboundTrafficPolicyMode'] =
    ctx.mesh.inboundTrafficPolicy?.mode === 'LOCALHOST' ? 'localhost' : 'passthrough';
  fields['CompliancePolicy'] = ctx.compliancePolicy;
  return new GoStruct(SIDECAR_TEMPLATE_DATA, Object.freeze(fields));
}

/** `metav1.ObjectMeta` of an object's metadata, as `.ObjectMeta` is built. */
export function objectMetaStruct(meta: unknown): GoStruct {
  return k8sStruct('v1.ObjectMeta', meta, OBJECT_META);
}

/** `[]corev1.Container`, as `.Spec.Containers` is built. */
export function containerStructs(containers: readonly unknown[]): GoValue {
  return fieldValue('[v1.Container', containers);
}

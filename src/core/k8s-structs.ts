/**
 * Kubernetes API structs the core prints or hands to templates, as declared in k8s.io/api
 * core/v1/types.go at the version the pinned Istio builds with (v0.36.1, test/oracle/go.mod):
 * fields in declaration order, each with its JSON name, the shape of its Go type and whether
 * its tag says `omitempty`. The one home of that field order: `pipeline/container-json.ts`
 * (Go's JSON text) and `template/data.ts` (the Go structs a template reads) both derive from it.
 */
import { parseFieldTable } from './field-table.js';

/**
 * The shape of a field's Go type: `s`, `i`, `b` a string (named string types too), integer
 * (or IntOrString) and bool value; `*s`, `*i`, `*b` pointers to them (`*s` also a pointer to a
 * struct not listed here); `[]s` a list of scalars (or of structs not listed here); `[]T` a list of the listed struct T; `T` a struct value,
 * `*T` a pointer to it; `{}` map[string]string; `Q{}` a ResourceList; `Q` a Quantity.
 */
export type K8sFieldType = string;

/** JSON name, type shape, `omitempty`, and the Go name when it is not the capitalised JSON name. */
export type K8sField = readonly [json: string, type: K8sFieldType, omitempty: boolean, go?: string];

/**
 * A struct's fields as `json:shape`, `?` after the shape where the tag says `omitempty`, and
 * `GoName=` before the JSON name where the Go name is not the capitalised JSON name.
 */
export function k8sFields(struct: string, text: string): readonly K8sField[] {
  return parseFieldTable(struct, text, { optional: true, alias: true }).map(
    ({ name, type, optional, alias }): K8sField =>
      alias === undefined ? [name, type, optional] : [name, type, optional, alias],
  );
}

const STRUCTS: Readonly<Record<string, string>> = {
  Container: `
    name:s image:s? command:[]s? args:[]s? workingDir:s? ports:[]ContainerPort?
    envFrom:[]EnvFromSource? env:[]EnvVar? resources:ResourceRequirements?
    resizePolicy:[]ContainerResizePolicy? restartPolicy:*s? restartPolicyRules:[]s?
    volumeMounts:[]VolumeMount? volumeDevices:[]VolumeDevice? livenessProbe:*Probe?
    readinessProbe:*Probe? startupProbe:*Probe? lifecycle:*Lifecycle?
    terminationMessagePath:s? terminationMessagePolicy:s? imagePullPolicy:s?
    securityContext:*SecurityContext? stdin:b? stdinOnce:b? TTY=tty:b?
  `,
  ContainerPort: 'name:s? hostPort:i? containerPort:i protocol:s? hostIP:s?',
  EnvFromSource: 'prefix:s? configMapRef:*s? secretRef:*s?',
  EnvVar: 'name:s value:s? valueFrom:*EnvVarSource?',
  EnvVarSource: `
    fieldRef:*ObjectFieldSelector? resourceFieldRef:*ResourceFieldSelector?
    configMapKeyRef:*s? secretKeyRef:*s? fileKeyRef:*s?
  `,
  ObjectFieldSelector: 'apiVersion:s? fieldPath:s',
  ResourceFieldSelector: 'containerName:s? resource:s divisor:Q?',
  ResourceRequirements: 'limits:Q{}? requests:Q{}? claims:[]s?',
  ContainerResizePolicy: 'resourceName:s restartPolicy:s',
  VolumeMount: `
    name:s readOnly:b? recursiveReadOnly:*s? mountPath:s subPath:s? mountPropagation:*s?
    subPathExpr:s?
  `,
  VolumeDevice: 'name:s devicePath:s',
  // ProbeHandler is embedded inline: its fields come first.
  Probe: `
    exec:*ExecAction? httpGet:*HTTPGetAction? tcpSocket:*TCPSocketAction? grpc:*GRPCAction?
    initialDelaySeconds:i? timeoutSeconds:i? periodSeconds:i? successThreshold:i?
    failureThreshold:i? terminationGracePeriodSeconds:*i?
  `,
  Lifecycle: 'postStart:*LifecycleHandler? preStop:*LifecycleHandler? stopSignal:*s?',
  LifecycleHandler:
    'exec:*ExecAction? httpGet:*HTTPGetAction? tcpSocket:*TCPSocketAction? sleep:*s?',
  ExecAction: 'command:[]s?',
  HTTPGetAction: 'path:s? port:i host:s? scheme:s? httpHeaders:[]HTTPHeader?',
  HTTPHeader: 'name:s value:s',
  TCPSocketAction: 'port:i host:s?',
  // `port` and the `*string` `service` carry no omitempty, so an unset service prints as null
  // (Istio's ISTIO_KUBE_APP_PROBERS shows `"service":null`).
  GRPCAction: 'port:i service:*s',
  SecurityContext: `
    capabilities:*Capabilities? privileged:*b? seLinuxOptions:*s? windowsOptions:*s?
    runAsUser:*i? runAsGroup:*i? runAsNonRoot:*b? readOnlyRootFilesystem:*b?
    allowPrivilegeEscalation:*b? procMount:*s? seccompProfile:*s? appArmorProfile:*s?
  `,
  Capabilities: 'add:[]s? drop:[]s?',
};

/** Struct name -> fields, in declaration order. */
export const K8S_STRUCTS: Readonly<Record<string, readonly K8sField[]>> = Object.fromEntries(
  Object.entries(STRUCTS).map(([struct, text]) => [struct, k8sFields(struct, text)]),
);

/** The Go field name of `field`. */
export function goFieldName(field: K8sField): string {
  const [json, , , go] = field;
  return go ?? json.charAt(0).toUpperCase() + json.slice(1);
}

/**
 * Kubernetes API structs the core prints or hands to templates, as declared in k8s.io/api
 * core/v1/types.go at the version the pinned Istio builds with (v0.36.1, test/oracle/go.mod):
 * fields in declaration order, each with its JSON name, the shape of its Go type and whether
 * its tag says `omitempty`. The one home of that field order: `pipeline/container-json.ts`
 * (Go's JSON text) and `template/data.ts` (the Go structs a template reads) both derive from it.
 */

/**
 * The shape of a field's Go type: `s`, `i`, `b` a string (named string types too), integer
 * (or IntOrString) and bool value; `*s`, `*i`, `*b` pointers to them (`*s` also a pointer to a
 * struct not listed here); `[]s` a list of scalars (or of structs not listed here); `[]T` a list of the listed struct T; `T` a struct value,
 * `*T` a pointer to it; `{}` map[string]string; `Q{}` a ResourceList; `Q` a Quantity.
 */
export type K8sFieldType = string;

/** JSON name, type shape, `omitempty`, and the Go name when it is not the capitalised JSON name. */
export type K8sField = readonly [json: string, type: K8sFieldType, omitempty: boolean, go?: string];

const O = true;
const NO = false;

/** Struct name -> fields, in declaration order. */
export const K8S_STRUCTS: Readonly<Record<string, readonly K8sField[]>> = {
  Container: [
    ['name', 's', NO],
    ['image', 's', O],
    ['command', '[]s', O],
    ['args', '[]s', O],
    ['workingDir', 's', O],
    ['ports', '[]ContainerPort', O],
    ['envFrom', '[]EnvFromSource', O],
    ['env', '[]EnvVar', O],
    ['resources', 'ResourceRequirements', O],
    ['resizePolicy', '[]ContainerResizePolicy', O],
    ['restartPolicy', '*s', O],
    ['restartPolicyRules', '[]s', O],
    ['volumeMounts', '[]VolumeMount', O],
    ['volumeDevices', '[]VolumeDevice', O],
    ['livenessProbe', '*Probe', O],
    ['readinessProbe', '*Probe', O],
    ['startupProbe', '*Probe', O],
    ['lifecycle', '*Lifecycle', O],
    ['terminationMessagePath', 's', O],
    ['terminationMessagePolicy', 's', O],
    ['imagePullPolicy', 's', O],
    ['securityContext', '*SecurityContext', O],
    ['stdin', 'b', O],
    ['stdinOnce', 'b', O],
    ['tty', 'b', O, 'TTY'],
  ],
  ContainerPort: [
    ['name', 's', O],
    ['hostPort', 'i', O],
    ['containerPort', 'i', NO],
    ['protocol', 's', O],
    ['hostIP', 's', O],
  ],
  EnvFromSource: [
    ['prefix', 's', O],
    ['configMapRef', '*s', O],
    ['secretRef', '*s', O],
  ],
  EnvVar: [
    ['name', 's', NO],
    ['value', 's', O],
    ['valueFrom', '*EnvVarSource', O],
  ],
  EnvVarSource: [
    ['fieldRef', '*ObjectFieldSelector', O],
    ['resourceFieldRef', '*ResourceFieldSelector', O],
    ['configMapKeyRef', '*s', O],
    ['secretKeyRef', '*s', O],
    ['fileKeyRef', '*s', O],
  ],
  ObjectFieldSelector: [
    ['apiVersion', 's', O],
    ['fieldPath', 's', NO],
  ],
  ResourceFieldSelector: [
    ['containerName', 's', O],
    ['resource', 's', NO],
    ['divisor', 'Q', O],
  ],
  ResourceRequirements: [
    ['limits', 'Q{}', O],
    ['requests', 'Q{}', O],
    ['claims', '[]s', O],
  ],
  ContainerResizePolicy: [
    ['resourceName', 's', NO],
    ['restartPolicy', 's', NO],
  ],
  VolumeMount: [
    ['name', 's', NO],
    ['readOnly', 'b', O],
    ['recursiveReadOnly', '*s', O],
    ['mountPath', 's', NO],
    ['subPath', 's', O],
    ['mountPropagation', '*s', O],
    ['subPathExpr', 's', O],
  ],
  VolumeDevice: [
    ['name', 's', NO],
    ['devicePath', 's', NO],
  ],
  // ProbeHandler is embedded inline: its fields come first.
  Probe: [
    ['exec', '*ExecAction', O],
    ['httpGet', '*HTTPGetAction', O],
    ['tcpSocket', '*TCPSocketAction', O],
    ['grpc', '*GRPCAction', O],
    ['initialDelaySeconds', 'i', O],
    ['timeoutSeconds', 'i', O],
    ['periodSeconds', 'i', O],
    ['successThreshold', 'i', O],
    ['failureThreshold', 'i', O],
    ['terminationGracePeriodSeconds', '*i', O],
  ],
  Lifecycle: [
    ['postStart', '*LifecycleHandler', O],
    ['preStop', '*LifecycleHandler', O],
    ['stopSignal', '*s', O],
  ],
  LifecycleHandler: [
    ['exec', '*ExecAction', O],
    ['httpGet', '*HTTPGetAction', O],
    ['tcpSocket', '*TCPSocketAction', O],
    ['sleep', '*s', O],
  ],
  ExecAction: [['command', '[]s', O]],
  HTTPGetAction: [
    ['path', 's', O],
    ['port', 'i', NO],
    ['host', 's', O],
    ['scheme', 's', O],
    ['httpHeaders', '[]HTTPHeader', O],
  ],
  HTTPHeader: [
    ['name', 's', NO],
    ['value', 's', NO],
  ],
  TCPSocketAction: [
    ['port', 'i', NO],
    ['host', 's', O],
  ],
  // `port` and the `*string` `service` carry no omitempty, so an unset service prints as null
  // (Istio's ISTIO_KUBE_APP_PROBERS shows `"service":null`).
  GRPCAction: [
    ['port', 'i', NO],
    ['service', '*s', NO],
  ],
  SecurityContext: [
    ['capabilities', '*Capabilities', O],
    ['privileged', '*b', O],
    ['seLinuxOptions', '*s', O],
    ['windowsOptions', '*s', O],
    ['runAsUser', '*i', O],
    ['runAsGroup', '*i', O],
    ['runAsNonRoot', '*b', O],
    ['readOnlyRootFilesystem', '*b', O],
    ['allowPrivilegeEscalation', '*b', O],
    ['procMount', '*s', O],
    ['seccompProfile', '*s', O],
    ['appArmorProfile', '*s', O],
  ],
  Capabilities: [
    ['add', '[]s', O],
    ['drop', '[]s', O],
  ],
};

/** The Go field name of `field`. */
export function goFieldName(field: K8sField): string {
  const [json, , , go] = field;
  return go ?? json.charAt(0).toUpperCase() + json.slice(1);
}

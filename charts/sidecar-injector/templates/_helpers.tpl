{{/*
Object names carry the revision (as istiod's do), so releases for two revisions never collide,
in one namespace or cluster-wide.
*/}}
{{- define "sidecar-injector.fullname" -}}
{{- if .Values.revision -}}
{{- printf "sidecar-injector-%s" .Values.revision | trunc 63 | trimSuffix "-" -}}
{{- else -}}
sidecar-injector
{{- end -}}
{{- end -}}

{{/* The revision as istiod names it: "default" for the unnamed one. */}}
{{- define "sidecar-injector.revision" -}}
{{- .Values.revision | default "default" -}}
{{- end -}}

{{- define "sidecar-injector.selectorLabels" -}}
app.kubernetes.io/name: sidecar-injector
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "sidecar-injector.labels" -}}
{{ include "sidecar-injector.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "sidecar-injector.tlsSecretName" -}}
{{- if eq .Values.certificates.mode "existingSecret" -}}
{{- required "certificates.existingSecret.name is required with mode existingSecret" .Values.certificates.existingSecret.name -}}
{{- else -}}
{{- include "sidecar-injector.fullname" . }}-tls
{{- end -}}
{{- end -}}

{{/* Where the server reads its ConfigMaps from. */}}
{{- define "sidecar-injector.configNamespace" -}}
{{- if .Values.configMaps.create -}}
{{- .Release.Namespace -}}
{{- else -}}
{{- .Values.istioNamespace -}}
{{- end -}}
{{- end -}}

{{/* The ConfigMap names istiod uses for a revision: NAME or NAME-REV. */}}
{{- define "sidecar-injector.revSuffix" -}}
{{- if .Values.revision -}}-{{ .Values.revision }}{{- end -}}
{{- end -}}

{{- define "sidecar-injector.image" -}}
{{- $img := .Values.image -}}
{{- $repo := $img.name -}}
{{- if not (contains "/" $img.name) -}}
{{- $hub := $img.hub | default .Values.global.hub -}}
{{- if $hub -}}{{- $repo = printf "%s/%s" (trimSuffix "/" $hub) $img.name -}}{{- end -}}
{{- end -}}
{{- if $img.digest -}}
{{- printf "%s@%s" $repo $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (toString ($img.tag | default .Values.global.tag | default .Chart.AppVersion)) -}}
{{- end -}}
{{- end -}}

{{/* The Service DNS names the serving certificate must cover. */}}
{{- define "sidecar-injector.dnsNames" -}}
{{- $svc := include "sidecar-injector.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson -}}
{{- end -}}

{{/*
Self-signed TLS material, made once per render and shared by the Secret and every webhook
configuration, so the caBundle always matches the certificate. On upgrade the existing Secret is
reused (lookup), so upgrades do not rotate the CA under running pods.
*/}}
{{- define "sidecar-injector.selfSignedTLS" -}}
{{- if not (hasKey .Values.certificates "_generated") -}}
{{- $name := include "sidecar-injector.tlsSecretName" . -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $data := dict -}}
{{- if and $existing (hasKey ($existing.data | default dict) "ca.crt") -}}
{{- $data = dict "ca" (index $existing.data "ca.crt") "crt" (index $existing.data "tls.crt") "key" (index $existing.data "tls.key") -}}
{{- else -}}
{{- $ca := genCA (printf "%s webhook CA" (include "sidecar-injector.fullname" .)) (int .Values.certificates.selfSigned.caDays) -}}
{{- $dns := include "sidecar-injector.dnsNames" . | fromJsonArray -}}
{{- $cert := genSignedCert (index $dns 2) nil $dns (int .Values.certificates.selfSigned.certDays) $ca -}}
{{- $data = dict "ca" ($ca.Cert | b64enc) "crt" ($cert.Cert | b64enc) "key" ($cert.Key | b64enc) -}}
{{- end -}}
{{- $_ := set .Values.certificates "_generated" $data -}}
{{- end -}}
{{- toJson .Values.certificates._generated -}}
{{- end -}}

{{/* caBundle for webhook entries; empty with cert-manager (cainjector fills it in). */}}
{{- define "sidecar-injector.caBundle" -}}
{{- $mode := .Values.certificates.mode -}}
{{- if eq $mode "selfSigned" -}}
{{- (include "sidecar-injector.selfSignedTLS" . | fromJson).ca -}}
{{- else if eq $mode "existingSecret" -}}
{{- required "certificates.existingSecret.caBundle is required with mode existingSecret" .Values.certificates.existingSecret.caBundle -}}
{{- else if ne $mode "certManager" -}}
{{- fail (printf "certificates.mode %q: use selfSigned, certManager or existingSecret" $mode) -}}
{{- end -}}
{{- end -}}

{{- define "sidecar-injector.webhookAnnotations" -}}
{{- $ann := deepCopy (.Values.webhook.annotations | default dict) -}}
{{- if eq .Values.certificates.mode "certManager" -}}
{{- $_ := set $ann "cert-manager.io/inject-ca-from" (printf "%s/%s-serving" .Release.Namespace (include "sidecar-injector.fullname" .)) -}}
{{- end -}}
{{- if $ann -}}
annotations:
  {{- toYaml $ann | nindent 2 }}
{{- end -}}
{{- end -}}

{{/*
Entry names end in ".inject.sidecar-injector.io", never in istiod's "sidecar-injector.istio.io":
istiod's webhook cert patcher rewrites the caBundle of every entry with that suffix in a
configuration labelled with its revision (istio/istio pkg/webhooks/webhookpatch.go).
*/}}
{{- define "sidecar-injector.entrySuffix" -}}inject.sidecar-injector.io{{- end -}}

{{/* One webhook entry. Args: root context, prefix, namespace expressions, object expressions. */}}
{{- define "sidecar-injector.webhookEntry" -}}
{{- $root := index . 0 -}}
{{- $prefix := index . 1 -}}
{{- $nsExprs := index . 2 -}}
{{- $objExprs := index . 3 -}}
{{- $excluded := concat (list "kube-system" "kube-public" "kube-node-lease" $root.Release.Namespace) $root.Values.webhook.excludedNamespaces | uniq -}}
- name: {{ $prefix }}.{{ include "sidecar-injector.entrySuffix" $root }}
  clientConfig:
    service:
      name: {{ include "sidecar-injector.fullname" $root }}
      namespace: {{ $root.Release.Namespace }}
      path: /inject
      port: 443
    {{- with include "sidecar-injector.caBundle" $root }}
    caBundle: {{ . }}
    {{- end }}
  rules:
    - operations: [CREATE]
      apiGroups: ['']
      apiVersions: [v1]
      resources: [pods]
      scope: Namespaced
  sideEffects: None
  admissionReviewVersions: [v1]
  failurePolicy: {{ $root.Values.webhook.failurePolicy }}
  matchPolicy: Equivalent
  timeoutSeconds: {{ $root.Values.webhook.timeoutSeconds }}
  reinvocationPolicy: {{ $root.Values.webhook.reinvocationPolicy }}
  namespaceSelector:
    matchExpressions:
      {{- toYaml $nsExprs | nindent 6 }}
      - key: kubernetes.io/metadata.name
        operator: NotIn
        values: {{ toJson $excluded }}
      {{- with $root.Values.webhook.namespaceSelector }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
  objectSelector:
    matchExpressions:
      {{- toYaml $objExprs | nindent 6 }}
      {{- with $root.Values.webhook.objectSelector }}
      {{- toYaml . | nindent 6 }}
      {{- end }}
{{- end -}}

{{/*
The entries for one selector value (a revision or a tag), as istiod's chart lays them out:
rev.namespace / rev.object always; namespace / object (and auto) for the default revision or tag.
Args: root context, the istio.io/rev value to match, whether to add the default entries.
*/}}
{{- define "sidecar-injector.webhookEntries" -}}
{{- $root := index . 0 -}}
{{- $rev := index . 1 -}}
{{- $withDefault := index . 2 -}}
{{- $optOut := dict "key" "sidecar.istio.io/inject" "operator" "NotIn" "values" (list "false") -}}
{{- include "sidecar-injector.webhookEntry" (list $root "rev.namespace"
  (list (dict "key" "istio.io/rev" "operator" "In" "values" (list $rev)) (dict "key" "istio-injection" "operator" "DoesNotExist"))
  (list $optOut)) }}
{{ include "sidecar-injector.webhookEntry" (list $root "rev.object"
  (list (dict "key" "istio.io/rev" "operator" "DoesNotExist") (dict "key" "istio-injection" "operator" "DoesNotExist"))
  (list $optOut (dict "key" "istio.io/rev" "operator" "In" "values" (list $rev)))) }}
{{- if $withDefault }}
{{ include "sidecar-injector.webhookEntry" (list $root "namespace"
  (list (dict "key" "istio-injection" "operator" "In" "values" (list "enabled")))
  (list $optOut)) }}
{{ include "sidecar-injector.webhookEntry" (list $root "object"
  (list (dict "key" "istio-injection" "operator" "DoesNotExist") (dict "key" "istio.io/rev" "operator" "DoesNotExist"))
  (list (dict "key" "sidecar.istio.io/inject" "operator" "In" "values" (list "true")) (dict "key" "istio.io/rev" "operator" "DoesNotExist"))) }}
{{- if $root.Values.webhook.enableNamespacesByDefault }}
{{ include "sidecar-injector.webhookEntry" (list $root "auto"
  (list (dict "key" "istio-injection" "operator" "DoesNotExist") (dict "key" "istio.io/rev" "operator" "DoesNotExist"))
  (list (dict "key" "sidecar.istio.io/inject" "operator" "DoesNotExist") (dict "key" "istio.io/rev" "operator" "DoesNotExist"))) }}
{{- end }}
{{- end }}
{{- end -}}

{{/* PromQL label matchers selecting this release's injector pods (not istiod's, same metric names). */}}
{{- define "sidecar-injector.promSelector" -}}
namespace="{{ .Release.Namespace }}",container="injector",pod=~"{{ include "sidecar-injector.fullname" . }}-[a-z0-9]+-[a-z0-9]+"
{{- end -}}

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	jsonpatch "github.com/evanphx/json-patch/v5"
	meshconfig "istio.io/api/mesh/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"istio.io/istio/pilot/pkg/features"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pkg/cluster"
	"istio.io/istio/pkg/config/constants"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/config/mesh/meshwatcher"
	commonfeatures "istio.io/istio/pkg/features"
	"istio.io/istio/pkg/kube"
	"istio.io/istio/pkg/kube/inject"
	"istio.io/istio/pkg/kube/multicluster"
)

type textDef struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

type message struct {
	Text *textDef `json:"text,omitempty"`
	// ForgetTexts drops every text defined so far: the caller sends it between cases so that a long
	// run, whose cases each vary the configuration texts, holds a bounded number of them.
	ForgetTexts bool          `json:"forgetTexts,omitempty"`
	Case        *ocase        `json:"case,omitempty"`
	Canon       *canonRequest `json:"canon,omitempty"`
	YAML        *yamlRequest  `json:"yaml,omitempty"`
}

type namespace struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// ocase is one question. Texts are given inline or by the id of an earlier text line.
type ocase struct {
	ID       string `json:"id"`
	Mode     string `json:"mode"` // "webhook" or "kube-inject"
	Config   string `json:"config,omitempty"`
	ConfigID string `json:"configId,omitempty"`
	Values   string `json:"values,omitempty"`
	ValuesID string `json:"valuesId,omitempty"`
	Mesh     string `json:"mesh,omitempty"`
	MeshID   string `json:"meshId,omitempty"`
	// NativeSidecars is ENABLE_NATIVE_SIDECARS=true (else false): the cluster fact, decided globally.
	NativeSidecars bool `json:"nativeSidecars"`
	// Platform is PLATFORM ("" or "openshift").
	Platform         string `json:"platform,omitempty"`
	CompliancePolicy string `json:"compliancePolicy,omitempty"`
	Revision         string `json:"revision,omitempty"`
	// Webhook mode: the pod (request.object), request.namespace, the URL path (path parameters).
	Pod       json.RawMessage `json:"pod,omitempty"`
	Namespace string          `json:"namespace,omitempty"`
	Path      string          `json:"path,omitempty"`
	// ClusterID is istiod's own cluster: the cluster the case's namespaces live in (a webhook
	// path names it as /inject/cluster/<id>/...).
	ClusterID string `json:"clusterId,omitempty"`
	// Namespaces the cluster holds (read on OpenShift for the proxy UID/GID).
	Namespaces []namespace `json:"namespaces,omitempty"`
	// Kube-inject mode: the manifest (YAML, possibly several documents).
	Manifest string `json:"manifest,omitempty"`
}

type answer struct {
	ID string `json:"id"`
	// Inject is whether Istio injected (webhook: a patch came back; kube-inject: no skip warning).
	Inject  bool            `json:"inject"`
	Allowed bool            `json:"allowed,omitempty"`
	Patch   json.RawMessage `json:"patch,omitempty"`
	Pod     json.RawMessage `json:"pod,omitempty"`
	// Object is request.object as sent: the case's pod after a round trip through corev1.Pod,
	// as the API server encodes it.
	Object   json.RawMessage `json:"object,omitempty"`
	Manifest string          `json:"manifest,omitempty"`
	Warnings []string        `json:"warnings,omitempty"`
	Error    string          `json:"error,omitempty"`
	// PatchError is set when Istio's own patch does not apply to the pod it was computed from.
	PatchError string `json:"patchError,omitempty"`
}

type parsedConfig struct {
	config *inject.Config
	values inject.ValuesConfig
	mesh   *meshconfig.MeshConfig
	// valuesText is the values text as it came, for the webhook's watcher.
	valuesText string
}

// maxCached bounds the parsed configurations and the webhooks kept for reuse: a long run varies
// the configuration in most cases, and each parsed one holds its compiled templates.
const maxCached = 64

type oracle struct {
	texts    map[string]string
	configs  map[string]*parsedConfig
	webhooks map[string]*webhook
}

type webhook struct {
	mux  *http.ServeMux
	stop chan struct{}
}

func newOracle() *oracle {
	return &oracle{texts: map[string]string{}, configs: map[string]*parsedConfig{}, webhooks: map[string]*webhook{}}
}

func (o *oracle) text(inline, id string) (string, error) {
	if id == "" {
		return inline, nil
	}
	t, ok := o.texts[id]
	if !ok {
		return "", fmt.Errorf("oracle: no text with id %q", id)
	}
	return t, nil
}

func hash(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// parse reads the three ConfigMap texts the way istiod does: UnmarshalConfig for `config`,
// NewValuesConfig for `values`, ApplyMeshConfig over the defaults for `mesh`
// (the same calls Istio's inject tests make on the Helm-rendered ConfigMaps).
func (o *oracle) parse(c *ocase) (*parsedConfig, string, error) {
	cfgText, err := o.text(c.Config, c.ConfigID)
	if err != nil {
		return nil, "", err
	}
	valuesText, err := o.text(c.Values, c.ValuesID)
	if err != nil {
		return nil, "", err
	}
	meshText, err := o.text(c.Mesh, c.MeshID)
	if err != nil {
		return nil, "", err
	}
	key := hash(cfgText, valuesText, meshText)
	if p, ok := o.configs[key]; ok {
		return p, key, nil
	}
	cfg, err := inject.UnmarshalConfig([]byte(cfgText))
	if err != nil {
		return nil, "", fmt.Errorf("config: %v", err)
	}
	values, err := inject.NewValuesConfig(valuesText)
	if err != nil {
		return nil, "", fmt.Errorf("values: %v", err)
	}
	m, err := mesh.ApplyMeshConfig(meshText, mesh.DefaultMeshConfig())
	if err != nil {
		return nil, "", fmt.Errorf("mesh: %v", err)
	}
	p := &parsedConfig{config: &cfg, values: values, mesh: m, valuesText: valuesText}
	if len(o.configs) >= maxCached {
		clear(o.configs)
	}
	o.configs[key] = p
	return p, key, nil
}

// setGlobals sets the process-wide settings istiod reads from its environment.
func setGlobals(c *ocase) {
	if c.NativeSidecars {
		features.EnableNativeSidecars = features.NativeSidecarModeEnabled
	} else {
		features.EnableNativeSidecars = features.NativeSidecarModeDisabled
	}
	// platform.IsOpenShift reads PLATFORM on every call.
	_ = os.Setenv("PLATFORM", c.Platform)
	commonfeatures.CompliancePolicy = c.CompliancePolicy
}

func (o *oracle) answer(c *ocase) (a answer) {
	a.ID = c.ID
	defer func() {
		if r := recover(); r != nil {
			a = answer{ID: c.ID, Error: fmt.Sprintf("oracle: Istio panicked: %v", r)}
		}
	}()
	setGlobals(c)
	p, key, err := o.parse(c)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	switch c.Mode {
	case "kube-inject":
		return o.kubeInject(c, p, a)
	case "webhook", "":
		return o.webhook(c, p, key, a)
	default:
		a.Error = "oracle: unknown mode " + c.Mode
		return a
	}
}

// kubeInject runs `istioctl kube-inject`'s entry point as Istio's TestInjection calls it.
func (o *oracle) kubeInject(c *ocase, p *parsedConfig, a answer) answer {
	m := proto(p.mesh)
	var out bytes.Buffer
	warn := func(s string) { a.Warnings = append(a.Warnings, strings.TrimSpace(s)) }
	err := inject.IntoResourceFile(nil, p.config.Templates, p.values, c.Revision, m, strings.NewReader(c.Manifest), &out, warn)
	if err != nil {
		a.Error = err.Error()
		return a
	}
	a.Manifest = out.String()
	a.Inject = len(a.Warnings) == 0
	return a
}

func proto(m *meshconfig.MeshConfig) *meshconfig.MeshConfig {
	c, err := mesh.DeepCopyMeshConfig(m)
	if err != nil {
		panic(err)
	}
	return c
}

// staticWatcher hands NewWebhook one fixed configuration.
type staticWatcher struct {
	config *inject.Config
	values string
}

func (w *staticWatcher) SetHandler(func(*inject.Config, string) error) {}
func (w *staticWatcher) Run(<-chan struct{})                           {}
func (w *staticWatcher) Get() (*inject.Config, string, error)          { return w.config, w.values, nil }

// newWebhook builds Istio's webhook with NewWebhook, as its webhook tests do: a static mesh
// watcher, an empty ProxyConfig set, a fake multicluster controller holding a fake cluster with
// the case's namespaces.
func newWebhook(p *parsedConfig, valuesText, revision, clusterID string, namespaces []namespace) (*webhook, error) {
	env := &model.Environment{Watcher: meshwatcher.NewTestWatcher(p.mesh)}
	env.SetPushContext(&model.PushContext{ProxyConfigs: &model.ProxyConfigs{}})
	var objects []runtime.Object
	for _, ns := range namespaces {
		objects = append(objects, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
			Name: ns.Name, Labels: ns.Labels, Annotations: ns.Annotations,
		}})
	}
	stop := make(chan struct{})
	multi := multicluster.NewFakeController()
	client := kube.NewFakeClient(objects...)
	mux := http.NewServeMux()
	// Nodes are not watched: native sidecars are decided by ENABLE_NATIVE_SIDECARS=true|false.
	saved := features.EnableNativeSidecars
	features.EnableNativeSidecars = features.NativeSidecarModeDisabled
	_, err := inject.NewWebhook(inject.WebhookParameters{
		Watcher:      &staticWatcher{config: p.config, values: valuesText},
		Env:          env,
		Mux:          mux,
		Revision:     revision,
		MultiCluster: multi,
	})
	features.EnableNativeSidecars = saved
	if err != nil {
		close(stop)
		return nil, err
	}
	if clusterID == "" {
		clusterID = constants.DefaultClusterName
	}
	multi.Add(cluster.ID(clusterID), client, stop)
	client.RunAndWait(stop)
	return &webhook{mux: mux, stop: stop}, nil
}

func (o *oracle) webhook(c *ocase, p *parsedConfig, key string, a answer) answer {
	nsJSON, _ := json.Marshal(c.Namespaces)
	revision := c.Revision
	if revision == "" {
		revision = "default"
	}
	whKey := hash(key, c.Platform, revision, c.ClusterID, string(nsJSON))
	wh, ok := o.webhooks[whKey]
	if !ok {
		var err error
		wh, err = newWebhook(p, p.valuesText, revision, c.ClusterID, c.Namespaces)
		if err != nil {
			a.Error = err.Error()
			return a
		}
		// Bounded: a run with many configurations keeps only the latest webhooks.
		if len(o.webhooks) >= maxCached {
			for k, old := range o.webhooks {
				close(old.stop)
				delete(o.webhooks, k)
			}
		}
		o.webhooks[whKey] = wh
	}
	object, err := typedPod(c.Pod)
	if err != nil {
		a.Error = "oracle: the case's pod does not decode as a Pod: " + err.Error()
		return a
	}
	a.Object = object
	review := map[string]any{
		"apiVersion": "admission.k8s.io/v1",
		"kind":       "AdmissionReview",
		"request": map[string]any{
			"uid":       "oracle-" + c.ID,
			"kind":      map[string]string{"group": "", "version": "v1", "kind": "Pod"},
			"resource":  map[string]string{"group": "", "version": "v1", "resource": "pods"},
			"operation": "CREATE",
			"namespace": c.Namespace,
			"object":    json.RawMessage(object),
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		a.Error = "oracle: " + err.Error()
		return a
	}
	path := c.Path
	if path == "" {
		path = "/inject"
	}
	req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	wh.mux.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		a.Error = fmt.Sprintf("HTTP %d: %s", rec.Code, strings.TrimSpace(rec.Body.String()))
		return a
	}
	var resp struct {
		Response struct {
			Allowed bool   `json:"allowed"`
			Patch   string `json:"patch"`
			Result  *struct {
				Message string `json:"message"`
			} `json:"status"`
		} `json:"response"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
		a.Error = "oracle: bad AdmissionReview from Istio: " + err.Error()
		return a
	}
	a.Allowed = resp.Response.Allowed
	if resp.Response.Result != nil && resp.Response.Result.Message != "" {
		a.Error = resp.Response.Result.Message
	}
	if resp.Response.Patch == "" {
		return a
	}
	patch, err := base64.StdEncoding.DecodeString(resp.Response.Patch)
	if err != nil {
		a.Error = "oracle: patch is not base64: " + err.Error()
		return a
	}
	a.Inject = true
	a.Patch = patch
	decoded, err := jsonpatch.DecodePatch(patch)
	if err != nil {
		a.PatchError = err.Error()
		return a
	}
	pod, err := decoded.Apply(object)
	if err != nil {
		a.PatchError = err.Error()
		return a
	}
	a.Pod = pod
	return a
}

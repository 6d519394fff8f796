package main

import (
	"encoding/json"

	"sigs.k8s.io/yaml"

	"istio.io/istio/pkg/kube/inject"
)

// yamlRequest asks how istiod reads a text: as the injector `config` (inject.UnmarshalConfig,
// Go string fields throughout) and as an untyped map (how the values text reaches the templates).
type yamlRequest struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

type yamlAnswer struct {
	ID     string         `json:"id"`
	Config *inject.Config `json:"config,omitempty"`
	// ConfigError is UnmarshalConfig's error text, when it fails.
	ConfigError string          `json:"configError,omitempty"`
	Map         json.RawMessage `json:"map,omitempty"`
	MapError    string          `json:"mapError,omitempty"`
}

func readYAML(r *yamlRequest) yamlAnswer {
	a := yamlAnswer{ID: r.ID}
	c, err := inject.UnmarshalConfig([]byte(r.Text))
	if err != nil {
		a.ConfigError = err.Error()
	} else {
		a.Config = &c
	}
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(r.Text), &m); err != nil {
		a.MapError = err.Error()
	} else if b, err := json.Marshal(m); err != nil {
		// NaN and infinities have no JSON form.
		a.MapError = err.Error()
	} else {
		a.Map = b
	}
	return a
}

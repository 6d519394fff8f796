package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	yamlDecoder "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"istio.io/istio/pkg/kube/inject"
)

// canonRequest asks for an object as the API server would hold it: decoded into its typed Go
// form and encoded again. Both implementations' results go through it before they are compared,
// so that what is not representable in the typed object (an empty string where the field is
// omitempty, a null, key order, a non-canonical quantity) does not count as a difference.
type canonRequest struct {
	ID       string          `json:"id"`
	Pod      json.RawMessage `json:"pod,omitempty"`
	Manifest string          `json:"manifest,omitempty"`
}

type canonAnswer struct {
	ID       string          `json:"id"`
	Pod      json.RawMessage `json:"pod,omitempty"`
	Manifest string          `json:"manifest,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// typedPod is a pod's JSON after a round trip through corev1.Pod.
func typedPod(raw []byte) ([]byte, error) {
	var pod corev1.Pod
	if err := json.Unmarshal(raw, &pod); err != nil {
		return nil, err
	}
	return json.Marshal(&pod)
}

func canonical(r *canonRequest) (a canonAnswer) {
	a.ID = r.ID
	if len(r.Pod) > 0 {
		out, err := typedPod(r.Pod)
		if err != nil {
			a.Error = err.Error()
			return a
		}
		a.Pod = out
		return a
	}
	var out bytes.Buffer
	reader := yamlDecoder.NewYAMLReader(bufio.NewReader(strings.NewReader(r.Manifest)))
	for {
		raw, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			a.Error = err.Error()
			return a
		}
		doc, err := canonicalDocument(raw)
		if err != nil {
			a.Error = err.Error()
			return a
		}
		out.Write(doc)
		out.WriteString("---\n")
	}
	a.Manifest = out.String()
	return a
}

// canonicalDocument decodes a document the way kube-inject does (FromRawToObject) and encodes
// it as kube-inject writes its output; List items are decoded one by one.
func canonicalDocument(raw []byte) ([]byte, error) {
	obj, err := inject.FromRawToObject(raw)
	if runtime.IsNotRegisteredError(err) {
		return raw, nil
	}
	if err != nil {
		return nil, err
	}
	if list, ok := obj.(*corev1.List); ok {
		for i, item := range list.Items {
			j, err := yaml.YAMLToJSON(item.Raw)
			if err != nil {
				return nil, err
			}
			doc, err := canonicalDocument(j)
			if err != nil {
				return nil, err
			}
			if list.Items[i].Raw, err = yaml.YAMLToJSON(doc); err != nil {
				return nil, err
			}
		}
	}
	return yaml.Marshal(obj)
}

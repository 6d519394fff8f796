#!/usr/bin/env bash
# Builds helm and kustomize from the versions pinned in go.mod into test/helm/bin/ (gitignored).
# Used by .ci/run before `npm test`; the chart and kustomize tests skip (saying so) without them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v go >/dev/null || { echo "go not found: helm/kustomize not built" >&2; exit 1; }
mkdir -p bin
start=$SECONDS
# As helm's own Makefile does: the default Kubernetes version helm assumes (lint, template) follows
# the client-go it is built with, and `helm version` reports the module version.
helm_version="$(go list -m -f '{{.Version}}' helm.sh/helm/v3)"
client_go="$(go list -m -f '{{.Version}}' k8s.io/client-go)" # v0.MINOR.PATCH
k8s_minor="$(echo "$client_go" | cut -d. -f2)"
ldflags="-X helm.sh/helm/v3/internal/version.version=$helm_version"
for pkg in helm.sh/helm/v3/pkg/lint/rules helm.sh/helm/v3/pkg/chartutil; do
  ldflags="$ldflags -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=$k8s_minor"
done
go build -trimpath -ldflags "$ldflags" -o bin/helm helm.sh/helm/v3/cmd/helm
go build -trimpath -o bin/kustomize sigs.k8s.io/kustomize/kustomize/v5
echo "helm and kustomize built into test/helm/bin in $((SECONDS - start))s"

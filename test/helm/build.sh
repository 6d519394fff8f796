#!/usr/bin/env bash
# Builds helm and kustomize from the versions pinned in go.mod into test/helm/bin/ (gitignored).
# Used by .ci/run before `npm test`; the chart and kustomize tests skip (saying so) without them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
command -v go >/dev/null || { echo "go not found: helm/kustomize not built" >&2; exit 1; }
mkdir -p bin
start=$SECONDS
go build -trimpath -o bin/helm helm.sh/helm/v3/cmd/helm
go build -trimpath -o bin/kustomize sigs.k8s.io/kustomize/kustomize/v5
echo "helm and kustomize built into test/helm/bin in $((SECONDS - start))s"

#!/usr/bin/env bash
# Builds the test control plane (kcp: embedded etcd, kube-apiserver, kube-controller-manager and
# kubectl in one binary) once per source hash, into a cache outside the repository, and prints
# the binary's path. A `kubectl` symlink beside it runs the kubectl role.
#   KCP_CACHE_DIR  where built binaries live (default: ~/.cache/sidecar-injector/control-plane)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${KCP_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sidecar-injector/control-plane}"
hash="$(cat "$here/go.mod" "$here/go.sum" "$here"/*.go "$here/build.sh" | sha256sum | cut -c1-16)"
out="$cache/$hash"
if [ ! -x "$out/kcp" ]; then
  k8s="$(sed -n 's/^\tk8s.io\/kubernetes \(v[^ ]*\)$/\1/p' "$here/go.mod")"
  major="${k8s#v}"; major="${major%%.*}"
  minor="${k8s#v*.}"; minor="${minor%%.*}"
  pkg=k8s.io/component-base/version
  tmp="$out.tmp.$$"
  mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  echo "building kcp ($k8s) into $out ..." >&2
  start=$SECONDS
  (cd "$here" && go build -trimpath -o "$tmp/kcp" \
    -ldflags "-s -w -X $pkg.gitVersion=$k8s -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean" .)
  ln -sf kcp "$tmp/kubectl"
  rm -rf "$out"
  mv -T "$tmp" "$out"
  trap - EXIT
  echo "built kcp in $((SECONDS - start))s" >&2
fi
echo "$out/kcp"

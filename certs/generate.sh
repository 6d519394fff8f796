#!/usr/bin/env bash
# Makes a private CA and a serving certificate for the webhook Service, for clusters without
# cert-manager. Writes into certs/out/ (not committed):
#   ca.crt ca.key tls.crt tls.key   PEM files
#   tls-secret.yaml                 the sidecar-injector-tls Secret (kubectl apply -f it)
# and writes the CA, base64-encoded, into manifests/overlays/self-signed/cabundle-patch.yaml.
#
# Usage: certs/generate.sh [--service NAME] [--namespace NS] [--days N] [--out DIR]
set -euo pipefail

service=sidecar-injector
namespace=sidecar-injector
days=365
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="$root/certs/out"
patch="$root/manifests/overlays/self-signed/cabundle-patch.yaml"

while [[ $# -gt 0 ]]; do
  case "$1" in
    --service) service="$2"; shift 2 ;;
    --namespace) namespace="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --patch) patch="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

command -v openssl >/dev/null || { echo "openssl is required" >&2; exit 1; }
mkdir -p "$out"
umask 077
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

host="$service.$namespace.svc"

# CA: ECDSA P-256, only allowed to sign certificates.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -sha256 -days "$((days * 3))" \
  -subj "/O=sidecar-injector/CN=sidecar-injector webhook CA" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$tmp/ca.crt"

# Serving certificate: the API server verifies <service>.<namespace>.svc.
openssl ecparam -name prime256v1 -genkey -noout -out "$tmp/tls.key"
openssl req -new -key "$tmp/tls.key" -subj "/O=sidecar-injector/CN=$host" -out "$tmp/tls.csr"
cat > "$tmp/ext.cnf" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:$service,DNS:$service.$namespace,DNS:$host,DNS:$host.cluster.local
EXT
openssl x509 -req -in "$tmp/tls.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
  -sha256 -days "$days" -extfile "$tmp/ext.cnf" -out "$tmp/tls.crt" 2>/dev/null
openssl verify -CAfile "$tmp/ca.crt" "$tmp/tls.crt" >/dev/null

cp "$tmp/ca.key" "$tmp/ca.crt" "$tmp/tls.key" "$tmp/tls.crt" "$out/"
chmod 600 "$out/ca.key" "$out/tls.key"
chmod 644 "$out/ca.crt" "$out/tls.crt"

b64() { base64 < "$1" | tr -d '\n'; }

cat > "$out/tls-secret.yaml" <<YAML
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: sidecar-injector-tls
  namespace: $namespace
data:
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
  ca.crt: $(b64 "$out/ca.crt")
YAML

ca_bundle="$(b64 "$out/ca.crt")"
{
  echo "# Written by certs/generate.sh: the base64 PEM of certs/out/ca.crt for every webhook entry."
  for i in 0 1 2 3; do
    echo "- op: add"
    echo "  path: /webhooks/$i/clientConfig/caBundle"
    echo "  value: $ca_bundle"
  done
} > "$patch"

echo "CA and serving certificate for $host written to $out"
echo "caBundle patch written to $patch"
echo "next: kubectl apply -f manifests/base/namespace.yaml && kubectl apply -f $out/tls-secret.yaml && kubectl apply -k manifests/overlays/self-signed"

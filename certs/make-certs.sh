#!/usr/bin/env bash
# Makes a local CA and a server certificate for the gateway's TLS frontend (and for the test upstream).
# Nothing here is secret to the project: every clone makes its own keys into certs/out/ (git-ignored).
#   certs/make-certs.sh [OUT_DIR] [EXTRA_DNS_NAME]
# Env: GATEWAY_TLS_NAME adds a DNS name to the SAN list (e.g. the gateway's host name for a team).
set -euo pipefail
out=${1:-"$(cd "$(dirname "$0")" && pwd)/out"}
extra=${2:-${GATEWAY_TLS_NAME:-}}
mkdir -p "$out"
umask 077
if [ -s "$out/ca.pem" ] && [ -s "$out/server.pem" ]; then
  exit 0   # idempotent: keep the CA clients already trust
fi
san="DNS:localhost,IP:127.0.0.1,IP:::1"
[ -n "$extra" ] && san="$san,DNS:$extra"
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=aws-mask-gateway local CA" \
  -keyout "$out/ca.key" -out "$out/ca.pem" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
  -keyout "$out/server.key" -out "$out/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" > "$out/server.ext"
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial \
  -days 825 -sha256 -extfile "$out/server.ext" -out "$out/server.crt" 2>/dev/null
# HAProxy wants certificate and key in one file.
cat "$out/server.crt" "$out/server.key" > "$out/server.pem"
chmod 644 "$out/ca.pem" "$out/server.crt"
rm -f "$out/server.csr" "$out/server.ext" "$out/ca.srl"
echo "made $out/ca.pem (trust this CA in clients) and $out/server.pem (HAProxy's certificate)"

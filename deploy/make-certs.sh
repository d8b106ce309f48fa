#!/bin/sh
# A private CA and the certificates of the production stack (docs/operations.md, TLS), with openssl:
#   ca.pem / ca.key            the CA: keep ca.key OFFLINE once the certificates are made; whoever holds
#                              it can mint a client certificate the Temporal frontend accepts
#   temporal.pem / .key        the Temporal server (frontend and internode; also its client certificate
#                              to its own frontend, hence clientAuth too), names: temporal, localhost
#   postgresql.pem / .key      PostgreSQL's server certificate (name: postgresql)
#   worker, api, admin, ui     client certificates for the frontend's mTLS (requireClientAuth)
# Usage: deploy/make-certs.sh [DIR] (default deploy/certs). Existing files are kept: delete one to
# re-issue it. Certificates last PDW_CERT_DAYS (default 825) days: renew before (docs/operations.md).
set -eu
dir=${1:-$(dirname "$0")/certs}
days=${PDW_CERT_DAYS:-825}
mkdir -p "$dir"
cd "$dir"
umask 022  # keys are mounted read-only into containers running as other users; guard the directory on the host

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -sha256 -days 3650 -subj "/CN=pdw private CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout ca.key -out ca.pem 2>/dev/null
  chmod 600 ca.key
fi

issue() {  # issue NAME EXTENDED_KEY_USAGE SUBJECT_ALT_NAMES
  [ -f "$1.pem" ] && return 0
  openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=$1" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
    "$2" "${3:+subjectAltName=$3}" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -sha256 -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
  chmod 644 "$1.key"
}

issue temporal serverAuth,clientAuth DNS:temporal,DNS:localhost,IP:127.0.0.1
issue postgresql serverAuth DNS:postgresql,DNS:localhost
for client in worker api admin ui; do
  issue "$client" clientAuth ""
done
echo "certificates in $dir: keep ca.key offline"

#!/bin/sh
# A self-signed certificate for trying the deployment out: deploy/tls/fullchain.pem and
# privkey.pem for the given host name. Clients must be told to trust deploy/tls/fullchain.pem
# (pip --cert, npm cafile, apt Acquire::https::CaInfo, dnf sslcacert); use a real certificate
# (for example from Let's Encrypt) in production.
set -eu
host="${1:-localhost}"
folder="$(dirname "$0")/tls"
mkdir -p "$folder"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 \
  -keyout "$folder/privkey.pem" -out "$folder/fullchain.pem" \
  -subj "/CN=$host" -addext "subjectAltName=DNS:$host,DNS:localhost,IP:127.0.0.1"
chmod 600 "$folder/privkey.pem"
echo "Wrote $folder/fullchain.pem and $folder/privkey.pem for $host"

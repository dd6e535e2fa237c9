#!/bin/bash
# Print the release manifest (release.json) of an image build. Its format
# is image.Manifest (image/manifest.go); `ovsha image info` and
# `ovsha system status` read it.
#
# Usage: manifest.sh VERSION VARIANT KERNEL_VERSION KERNEL_PKG CMDLINE PACKAGES.txt
set -euo pipefail
VERSION=$1 VARIANT=$2 KVER=$3 KPKG=$4 CMDLINE=$5 PKGS=$6
built=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%dT%H:%M:%SZ)
printf '{\n  "format": 1,\n  "name": "ovsha",\n  "version": "%s",\n  "variant": "%s",\n' "$VERSION" "$VARIANT"
printf '  "arch": "amd64",\n  "built": "%s",\n  "kernel": "%s",\n  "kernel_package": "%s",\n' "$built" "$KVER" "$KPKG"
printf '  "cmdline": "%s",\n  "packages": [\n' "$CMDLINE"
awk -F'\t' 'NR > 1 { printf ",\n" } { printf "    {\"name\": \"%s\", \"version\": \"%s\"}", $1, $2 } END { printf "\n" }' "$PKGS"
printf '  ]\n}\n'

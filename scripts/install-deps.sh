#!/usr/bin/env bash
# Installs what pacd's tests need on a Debian machine, idempotently.
# Go itself must already be installed (see README). Run as root, or with
# sudo available for apt-get.
set -euo pipefail

need_go="1.26"
if ! command -v go >/dev/null 2>&1; then
	echo "install-deps: Go $need_go or newer is required (https://go.dev/doc/install)" >&2
	exit 1
fi

# Debian packages the tests use. Nothing is installed when all are present.
pkgs=(ca-certificates git make tzdata)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "install-deps: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

go mod download

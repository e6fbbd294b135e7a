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
# Real upstream proxies for the integration tests in internal/upstream, and
# the tools that test helpers shell out to: htpasswd (apache2-utils) for
# squid's password file, openssl for certificates and password hashes,
# setpriv and unshare (util-linux) to run the daemons as nobody and to give
# dante a private /etc/passwd, and curl for debugging by hand.
pkgs+=(squid tinyproxy dante-server microsocks apache2-utils openssl curl util-linux)
# brotli, for the WebAssembly module's compressed size (wasm's TestModuleSize).
pkgs+=(brotli)
# pacparser (1.3.x, through its Python module) and libfaketime, which fixes
# its clock, for the PAC engine comparison (bench/engines.sh).
pkgs+=(python3-pacparser faketime)
# Python's requests, one of the real clients that resolver's
# TestClientParity compares the flavours with (urllib, curl and Node's
# proxy-from-env are the others).
pkgs+=(python3-requests)
# The system services some of these packages start on install.
services=(squid tinyproxy danted)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The browser tests of web/ (web/playground_test.go, web/test/) and the
# Node tests of the WebAssembly engine: Node.js and npm, and Debian's
# Chromium, which playwright-core drives (it never downloads a browser).
# Looked for as commands, not packages: a Node.js from elsewhere, with
# its own npm, will do, and Debian's npm package would conflict with it.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "install-deps: installing ${missing[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
	# On an ordinary host the install just started system squid (:3128),
	# tinyproxy (:8888) and danted (:1080). The tests run their own
	# instances on free loopback ports and never want these, so stop them
	# and keep them from coming back at boot. Where systemd is not running
	# (containers, where policy-rc.d usually refuses to start services)
	# there is nothing to stop.
	if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
		$sudo systemctl disable --now "${services[@]}" 2>/dev/null || true
	fi
fi

go mod download

# playwright-core for the browser tests, at the version web/test's lock
# file pins. npm ci starts from that file alone, so running it again
# changes nothing.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	root="$(cd "$(dirname "$0")/.." && pwd)"
	npm ci --prefix "$root/web/test" --no-audit --no-fund --loglevel=error
	# proxy-from-env, Node's client for TestClientParity, likewise pinned.
	npm ci --prefix "$root/resolver/testdata/clients" --no-audit --no-fund --loglevel=error
fi

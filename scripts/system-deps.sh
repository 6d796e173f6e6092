#!/usr/bin/env bash
# Installs the Debian packages the simulators and tests need, if any is missing.
# Used by .ci/run and `make demo`. Needs root (or sudo) only when something is missing.
set -euo pipefail

APT_PACKAGES=(golang-go golang-github-vmware-govmomi-dev slapd ldap-utils chromium)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing Debian packages: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"

#!/usr/bin/env bash
# Makes sure Debian's Chromium and ChromeDriver are installed, for the agents' console tests.
#
#   scripts/browser.sh install    install chromium and chromium-driver from Debian's packages when missing
#
# The tests find them at /usr/bin/chromium and /usr/bin/chromedriver (or COLLECTIONS_TEST_CHROMIUM and
# COLLECTIONS_TEST_CHROMEDRIVER).
set -euo pipefail

log() { printf '%s\n' "browser.sh: $*" >&2; }

case "${1:-}" in
  install)
    if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
      exit 0
    fi
    [[ $EUID -eq 0 ]] || { log "error: Chromium is not installed and installing it needs root"; exit 1; }
    command -v apt-get >/dev/null 2>&1 || { log "error: Chromium is not installed and apt-get is not available"; exit 1; }
    log "installing chromium and chromium-driver from the Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2 || log "apt-get update failed; trying the install with the package lists there are"
    apt-get install -y --no-install-recommends chromium chromium-driver >&2
    ;;
  *)
    printf 'usage: %s install\n' "$0" >&2
    exit 2
    ;;
esac

#!/bin/sh
# `helm codex …` (plugin.yaml): runs the same kubectl-codex binary as `kubectl codex …`.
# The binary next to plugin.yaml (release archive installs) wins over PATH (krew, cargo
# install); the Helm that called the plugin is the one kubectl-codex runs.
set -eu
# Helm 3 runs this script from helm3/ (HELM_PLUGIN_DIR is that subdirectory): the plugin's
# root is then the script's own parent, which `cd -P` finds through Helm's symlinks.
script_root="$(cd -P "$(dirname "$0")/.." && pwd)"
plugin_dir="${HELM_PLUGIN_DIR:-$script_root}"
codex=""
for dir in "$plugin_dir" "$script_root"; do
  if [ -x "$dir/kubectl-codex" ]; then
    codex="$dir/kubectl-codex"
    break
  fi
done
if [ -z "$codex" ]; then
  codex="$(command -v kubectl-codex || true)"
fi
if [ "${1:-}" = "--plugin-hook" ]; then
  # Installing the plugin before the binary is fine (krew may come next): warn, do not fail.
  if [ -n "$codex" ]; then
    echo "helm codex runs $codex: $("$codex" version)"
  else
    echo "warning: kubectl-codex is not on PATH yet; helm codex needs it (README, Install)" >&2
  fi
  exit 0
fi
if [ -z "$codex" ]; then
  echo "helm codex: kubectl-codex not found in $plugin_dir or on PATH;" \
    "install it with krew, cargo install or a release archive (README, Install)" >&2
  exit 3
fi
if [ -z "${CODEX_HELM:-}" ] && [ -n "${HELM_BIN:-}" ]; then
  CODEX_HELM="$(command -v "$HELM_BIN" || true)"
  export CODEX_HELM
fi
exec "$codex" "$@"

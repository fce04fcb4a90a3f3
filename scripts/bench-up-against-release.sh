#!/usr/bin/env bash
# `cargo xtask bench up` of this tree against an earlier release, alternately, on one running
# local cluster: how README's "Against the release before isolation" was measured.
#
#   scripts/bench-up-against-release.sh [REV] [PAIRS]     default 37b343d (before issue 16), 2
#
# The release is checked out in a git worktree (/tmp/codex-release-REV) with its own target
# directory; its example images are pushed under the tag 0.1.0-old (its services.yaml is
# edited to use that tag: the one change), so both sides deploy their own images. Needs the
# cluster and images of this tree: `cargo xtask cluster up && cargo xtask images`.
# Writes each invocation's JSON report to target/bench-up-ab/<n>-<side>.json; compare the
# medians of `perRun[].coldUpS` of each side.
set -euo pipefail
cd "$(dirname "$0")/.."
rev="${1:-37b343d}"
pairs="${2:-2}"
here="$(pwd)"
target="${CARGO_TARGET_DIR:-$HOME/.cache/kubectl-codex/target}"
old="/tmp/codex-release-$rev"
old_target="$HOME/.cache/kubectl-codex/target-release-$rev"
export KUBECONFIG="${KUBECONFIG:-$here/.local-cluster/kubeconfig}"
out="$target/bench-up-ab"
mkdir -p "$out"

if [ ! -d "$old" ]; then
  git worktree add --detach "$old" "$rev"
  sed -i 's/^  app: "0.1.0"$/  app: "0.1.0-old"/' "$old/services.yaml"
  grep -q '^  app: "0.1.0-old"$' "$old/services.yaml" || { echo "versions.app not found in $rev's services.yaml" >&2; exit 2; }
  (cd "$old" && CARGO_TARGET_DIR="$old_target" cargo xtask images --tag 0.1.0-old)
fi

n=0
for _ in $(seq "$pairs"); do
  for side in new old; do
    n=$((n + 1))
    if [ "$side" = old ]; then dir="$old" tgt="$old_target"; else dir="$here" tgt="$target"; fi
    echo "[ab] $n: $side ($(date +%T))"
    (cd "$dir" && CARGO_TARGET_DIR="$tgt" cargo xtask bench up --runs 3 -o json >"$out/$n-$side.json")
  done
done
echo "[ab] reports in $out"

#!/bin/sh
# Entrypoint of the workspace-seed image (`cargo xtask dev-images`): fills the shared workspace
# with the example's sources, dependencies included (Go vendor/, web node_modules/), so that
# nothing is downloaded inside a pod. The dev runtime runs it as a Job in the stateful phase,
# before any service mounts its subdirectory.
#
# Idempotent: a workspace that was seeded once (marker file) is never copied into again, so
# the agent's edits survive every later `kubectl codex up`.
set -eu
workspace="${WORKSPACE:-/workspace}"
marker="$workspace/.codex-seeded"
if [ -e "$marker" ]; then
  echo "workspace-seed: $workspace was seeded at $(cat "$marker"); nothing to do"
  exit 0
fi
for dir in services web; do
  # An empty directory here was made by kubelet for a subPath mount, not by us: replace it.
  rmdir "$workspace/$dir" 2>/dev/null && echo "workspace-seed: replaced an empty $dir/"
  if [ -e "$workspace/$dir" ]; then
    echo "workspace-seed: $workspace/$dir exists; kept as it is"
    continue
  fi
  # Copy beside the target, then rename: whoever looks sees the whole tree or none of it.
  rm -rf "$workspace/.seed-$dir"
  cp -R "/seed/$dir" "$workspace/.seed-$dir"
  mv "$workspace/.seed-$dir" "$workspace/$dir"
  echo "workspace-seed: copied $dir/ ($(du -s "$workspace/$dir" | cut -f1) KiB)"
done
date -u +%Y-%m-%dT%H:%M:%SZ > "$marker"
echo "workspace-seed: done"

// The sandbox ("pause") image binary for our containerd (cargo xtask tools).
module codex.local/tools/pause

go 1.24.0

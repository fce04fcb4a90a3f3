// The probe image of the end-to-end tests (tests/e2e_cluster.rs): no dependencies.
module codex.local/testdata/probe

go 1.24

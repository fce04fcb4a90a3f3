// The local OCI registry for the cluster (cargo xtask tools): go-containerregistry's
// registry handler with blobs and manifests kept on disk.
module codex.local/tools/registry

go 1.25.0

require github.com/google/go-containerregistry v0.22.1

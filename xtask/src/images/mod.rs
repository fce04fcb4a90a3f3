//! Image builders: every OCI image xtask assembles from local files and pushes to the local
//! registry. [`oci`] is the assembler the others use (layers, config, `crane` push); [`base`]
//! the BuildKit builds' base images (Debian, Go, Node.js, PostgreSQL), [`example`] and [`dev`]
//! the example stack's `prod` and `dev` runtime images, [`gc`] the codex-gc chart's image.

pub mod base;
pub mod dev;
pub mod elf;
pub mod example;
pub mod gc;
pub mod oci;

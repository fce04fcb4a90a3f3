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

/// `go` in `module` for the images' static Linux/amd64 binaries: no cgo (the images have no
/// libc for them), and the host's toolchain (never a download of another one).
pub fn go_linux_static(module: &std::path::Path) -> std::process::Command {
    let mut go = std::process::Command::new("go");
    go.current_dir(module)
        .env("CGO_ENABLED", "0")
        .env("GOOS", "linux")
        .env("GOARCH", "amd64")
        .env("GOTOOLCHAIN", "local");
    go
}

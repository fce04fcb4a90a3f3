fn main() {
    println!("kubectl-codex");
}

//! The input digest: what a deploy is compared by. While resolving, the secret inputs (as
//! salted digests) and then each unit's extra manifest files, in file order, are written into
//! it; the resolved stack in canonical form is written last.

use super::super::canonical;
use super::super::inputs::{self, ResolvedInputs};
use super::super::secrets;
use super::super::stack::{ResolvedUnit, Stack};
use sha2::{Digest, Sha256};

/// Writes each secret input into the digest as a digest salted by the namespace: the input
/// digest sees a secret input change, never its value.
pub(super) fn add_secret_inputs(digest: &mut Sha256, inputs: &ResolvedInputs, namespace: &str) {
    for (name, input) in inputs.values.iter().filter(|(_, i)| i.secret) {
        let value = inputs::text_of(&input.value);
        digest.update(format!("secret input {name} {}\n", secrets::salted_digest(namespace, value.as_bytes())));
    }
}

/// Digest of what will be deployed: the resolved stack in canonical form (keys sorted, units
/// by name, dependencies sorted), so reformatting or reordering services.yaml where order
/// carries no meaning leaves it unchanged.
pub(super) fn input_digest(stack: &mut Stack, mut digest: Sha256) -> String {
    // The stack is put in canonical order in place and restored afterwards: cloning it (or
    // converting it to a JSON tree) to reorder a copy cost more than hashing it.
    let units = std::mem::take(&mut stack.units);
    let mut by_name: Vec<(usize, ResolvedUnit)> = units.into_iter().enumerate().collect();
    by_name.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let mut declared = Vec::with_capacity(by_name.len());
    for (index, mut unit) in by_name {
        let depends_on = unit.depends_on.clone();
        unit.depends_on.sort();
        declared.push((index, std::mem::take(&mut unit.source_path), depends_on));
        stack.units.push(unit);
    }
    digest.update(canonical::to_vec(&*stack).expect("the stack is plain data"));
    let mut in_file_order: Vec<Option<ResolvedUnit>> = std::iter::repeat_with(|| None).take(declared.len()).collect();
    for (mut unit, (index, source_path, depends_on)) in stack.units.drain(..).zip(declared) {
        unit.source_path = source_path;
        unit.depends_on = depends_on;
        in_file_order[index] = Some(unit);
    }
    stack.units = in_file_order.into_iter().flatten().collect();
    hex(&digest.finalize())
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

//! `--components N`: N shared unit defaults (`components`), the way a team writes a big stack.
//! Every unit with a typed workload uses one of them, and the fields the component now provides
//! (`resources`) are taken out of the unit; every component but each fourth one uses the one
//! before it, so nested components are merged too.

use super::generate::resources;
use super::yaml::{each_typed_unit, Node};

/// Adds `components` to the generated `document` and `use` to its typed units.
pub fn convert(document: &mut Node, count: usize) {
    let Node::Map(entries) = document else { return };
    let mut components = Vec::with_capacity(count);
    for i in 0..count {
        let mut component = Node::Map(Vec::new());
        if i % 4 != 0 {
            component.push("use", Node::Seq(vec![Node::Str(name(i - 1))]));
        }
        let mut workload = Node::Map(Vec::new());
        workload.push("resources", resources());
        workload.push("podLabels", Node::Map(vec![("team".into(), Node::Str(format!("team-{i:02}")))]));
        workload.push("securityContext", Node::Map(vec![("allowPrivilegeEscalation".into(), Node::Bool(false))]));
        component.push("workload", workload);
        components.push((name(i), component));
    }
    let mut next = 0;
    each_typed_unit(entries, |fields, workload| {
        workload.retain(|(k, _)| k != "resources");
        // After `name`, as people write it.
        fields.insert(1, ("use".into(), Node::Seq(vec![Node::Str(name(next % count))])));
        next += 1;
    });
    entries.push(("components".into(), Node::Map(components)));
}

fn name(i: usize) -> String {
    format!("defaults-{i:02}")
}

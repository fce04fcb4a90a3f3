//! `--inputs N --secrets M`: values from outside the file and Secrets built from them, the way
//! a real stack takes hosts and passwords. A fifth of the inputs are secret; each Secret reads
//! one of them (and every other one generates a token), and every typed unit reads a plain
//! input in its env and, with Secrets, a Secret key.

use super::yaml::{each_typed_unit, Node};

pub fn convert(document: &mut Node, inputs: usize, secrets: usize) {
    let Node::Map(entries) = document else { return };
    let secret_inputs = if secrets > 0 { (inputs / 5).max(1) } else { inputs / 5 };
    let plain_inputs = inputs.saturating_sub(secret_inputs).max(1);
    let mut declared = Vec::new();
    for i in 0..plain_inputs {
        declared.push((plain(i), Node::Map(vec![("default".into(), Node::Str(format!("value-{i:03}")))])));
    }
    for i in 0..secret_inputs {
        declared.push((
            secret_input(i),
            Node::Map(vec![
                ("secret".into(), Node::Bool(true)),
                ("description".into(), Node::Str(format!("password {i}"))),
            ]),
        ));
    }
    let mut declared_secrets = Vec::new();
    for j in 0..secrets {
        let input = secret_input(j % secret_inputs.max(1));
        let mut data = vec![
            ("password".to_string(), Node::Str(format!("{{{{ inputs.{input} }}}}"))),
            ("url".to_string(), Node::Str(format!("postgres://app:{{{{ inputs.{input} }}}}@db-000:5432/app"))),
        ];
        data.push(("user".into(), Node::Str("app".into())));
        let mut secret = vec![("data".to_string(), Node::Map(data))];
        if j % 2 == 0 {
            secret.push(("generate".into(), Node::Seq(vec![Node::Str("token".into())])));
        }
        declared_secrets.push((secret_name(j), Node::Map(secret)));
    }
    let mut next = 0;
    each_typed_unit(entries, |_, workload| {
        let env = match workload.iter_mut().position(|(k, _)| k == "env") {
            Some(at) => &mut workload[at].1,
            None => {
                workload.push(("env".into(), Node::Map(Vec::new())));
                &mut workload.last_mut().expect("just pushed").1
            }
        };
        env.push("FROM_INPUT", Node::Str(format!("{{{{ inputs.{} }}}}", plain(next % plain_inputs))));
        if secrets > 0 {
            env.push(
                "FROM_SECRET",
                Node::Map(vec![
                    ("secret".into(), Node::Str(secret_name(next % secrets))),
                    ("key".into(), Node::Str("password".into())),
                ]),
            );
        }
        next += 1;
    });
    // After `project`, as people write it.
    let at = entries.iter().position(|(k, _)| k == "project").map_or(0, |i| i + 1);
    if secrets > 0 {
        entries.insert(at, ("secrets".into(), Node::Map(declared_secrets)));
    }
    entries.insert(at, ("inputs".into(), Node::Map(declared)));
}

fn plain(i: usize) -> String {
    format!("setting{i:03}")
}

fn secret_input(i: usize) -> String {
    format!("password{i:03}")
}

fn secret_name(j: usize) -> String {
    format!("creds-{j:03}")
}

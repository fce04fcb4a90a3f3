//! `kubectl codex graph`: the example services.yaml as DOT that the real Graphviz accepts,
//! with every unit of the plan and every dependsOn edge; Mermaid; SVG through dot, and exit 3
//! naming dot when it is missing.

use crate::support::{codex_command, host_tool, text};

use std::io::Write as _;

use std::process::{Command, Output, Stdio};

/// The example's secret input `dbPassword`, given through the environment as a script would.
const DB_PASSWORD: &str = "graph-test-db-password-5e1a";

/// kubectl-codex with the example's input, the dot on PATH (unless `env` names one) and `env`.
fn codex(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = codex_command(args);
    command.env_remove("CODEX_DOT").env("CODEX_INPUT_DBPASSWORD", DB_PASSWORD).envs(env.iter().copied());
    command.output().expect("the binary runs")
}

/// Every unit of the example's plan with its phase and dependencies, from `plan -o json`.
fn planned_units() -> Vec<(String, String, Vec<String>)> {
    let out = codex(&["plan", "--env", "dev", "--slot", "1", "-o", "json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut units = Vec::new();
    for phase in plan["phases"].as_array().unwrap() {
        for unit in phase["units"].as_array().unwrap() {
            let depends_on = unit["dependsOn"].as_array().unwrap().iter().map(|d| d.as_str().unwrap().to_string());
            units.push((
                unit["name"].as_str().unwrap().to_string(),
                phase["name"].as_str().unwrap().to_string(),
                depends_on.collect(),
            ));
        }
    }
    units
}

#[test]
fn the_example_graph_is_valid_dot_with_every_unit_and_edge() {
    let dot = host_tool::host_tool("CODEX_TEST_DOT", "dot");
    let out = codex(&["graph", "--env", "dev", "--slot", "1"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let graph = text(&out.stdout);
    let units = planned_units();
    assert_eq!(units.len(), 7, "the example has seven units");
    let mut edges = 0;
    for (name, phase, depends_on) in &units {
        let cluster = format!("  subgraph cluster_{phase} {{\n");
        let at = graph.find(&cluster).unwrap_or_else(|| panic!("no {cluster:?} in {graph}"));
        let body = &graph[at..at + graph[at..].find("\n  }\n").unwrap()];
        assert!(body.contains(&format!("    \"{name}\" [label=\"{name}\\n")), "{name} not in {phase}: {graph}");
        for dependency in depends_on {
            assert!(graph.contains(&format!("  \"{dependency}\" -> \"{name}\";\n")), "{dependency} -> {name}: {graph}");
            edges += 1;
        }
    }
    assert_eq!(graph.matches(" -> ").count(), edges, "{graph}");
    assert!(edges >= 5, "the example's dependsOn: {edges} edges");

    let mut child = Command::new(&dot)
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(graph.as_bytes()).unwrap();
    let rendered = child.wait_with_output().unwrap();
    assert!(rendered.status.success(), "dot rejected the graph: {}", text(&rendered.stderr));
    let svg = text(&rendered.stdout);
    assert!(text(&rendered.stderr).trim().is_empty(), "dot warned: {}", text(&rendered.stderr));
    // dot writes `-` as `&#45;` and `>` as `&gt;` in the titles of nodes and edges.
    let drawn = |text: &str| text.replace('-', "&#45;").replace('>', "&gt;");
    for (name, phase, depends_on) in &units {
        assert!(svg.contains(&format!("<title>{}</title>", drawn(name))), "{name} not drawn");
        assert!(svg.contains(&format!("<title>cluster_{phase}</title>")), "{phase} not drawn");
        for dependency in depends_on {
            let edge = drawn(&format!("{dependency}->{name}"));
            assert!(svg.contains(&format!("<title>{edge}</title>")), "edge {dependency} -> {name} not drawn");
        }
    }
}

#[test]
fn svg_output_runs_dot() {
    let dot = host_tool::host_tool("CODEX_TEST_DOT", "dot");
    let out = codex(&["graph", "--env", "dev", "--slot", "1", "-o", "svg", "--dot", dot.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let svg = text(&out.stdout);
    assert!(svg.contains("<svg") && svg.contains("<title>gateway</title>"), "{svg}");
    let through_env =
        codex(&["graph", "--env", "dev", "--slot", "1", "-o", "svg"], &[("CODEX_DOT", dot.to_str().unwrap())]);
    assert_eq!(through_env.stdout, out.stdout);
}

#[test]
fn svg_without_dot_is_exit_3_naming_it() {
    let missing = codex(&["graph", "--env", "dev", "--slot", "1", "-o", "svg", "--dot", "/nonexistent/dot"], &[]);
    assert_eq!(missing.status.code(), Some(3), "{}", text(&missing.stderr));
    assert!(text(&missing.stderr).contains("--dot /nonexistent/dot: no such file (Graphviz's dot)"));
    let empty = tempfile::tempdir().unwrap();
    let no_path =
        codex(&["graph", "--env", "dev", "--slot", "1", "-o", "svg"], &[("PATH", empty.path().to_str().unwrap())]);
    assert_eq!(no_path.status.code(), Some(3), "{}", text(&no_path.stderr));
    assert!(text(&no_path.stderr).contains("needs Graphviz's dot, which is not on PATH"), "{}", text(&no_path.stderr));
    assert!(no_path.stdout.is_empty());
}

#[test]
fn mermaid_output_of_the_example() {
    let out = codex(&["graph", "--env", "dev", "--slot", "1", "-o", "mermaid"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let graph = text(&out.stdout);
    assert!(graph.starts_with("flowchart LR\n"));
    let units = planned_units();
    for (name, _, _) in &units {
        assert!(graph.contains(&format!("[\"{name}<br/>")), "{name}: {graph}");
    }
    let edges: usize = units.iter().map(|(_, _, d)| d.len()).sum();
    assert_eq!(graph.matches(" --> ").count(), edges, "{graph}");
}

#[test]
fn graph_needs_the_example_inputs_like_plan() {
    let out =
        codex_command(&["graph", "--env", "dev", "--slot", "1"]).env_remove("CODEX_INPUT_DBPASSWORD").output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("dbPassword"), "{}", text(&out.stderr));
}

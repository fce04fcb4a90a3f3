//! Property: the plan and the values depend on what services.yaml says, not on the order of
//! mapping keys, of the unit lists or of `dependsOn` entries — none of which carries meaning.

use kubectl_codex::config::{self, source, stack::Selection};
use kubectl_codex::{plan, values};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::path::Path;

/// Rewrites `value` with every mapping's keys, and the lists whose order carries no meaning,
/// permuted by `seed`.
fn next(seed: &mut u64) -> u64 {
    // xorshift: a tiny deterministic generator driven by proptest's seed.
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

fn shuffle(value: &Value, key: &str, seed: &mut u64) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, (next(seed) % (i as u64 + 1)) as usize);
            }
            let mut out = Map::new();
            for (k, v) in entries {
                out.insert(k.clone(), shuffle(v, k, seed));
            }
            Value::Object(out)
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(|v| shuffle(v, "", seed)).collect();
            if matches!(key, "services" | "infrastructure" | "dependsOn") {
                for i in (1..items.len()).rev() {
                    items.swap(i, (next(seed) % (i as u64 + 1)) as usize);
                }
            }
            Value::Array(items)
        }
        other => other.clone(),
    }
}

fn outputs(yaml: &str, selection: &Selection) -> (String, Vec<String>) {
    let loaded =
        config::load_bytes("services.yaml", yaml.as_bytes().to_vec(), Path::new(env!("CARGO_MANIFEST_DIR"))).unwrap();
    let stack = loaded.resolve_with(selection, &config::inputs::GivenInputs::stand_ins()).unwrap();
    let plan = plan::plan(&stack);
    let values = values::phase_values(&stack, &plan).into_iter().map(|p| p.yaml).collect();
    (serde_json::to_string(&plan).unwrap(), values)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    #[test]
    fn plan_ignores_meaningless_order(seed in 1u64.., env_index in 0usize..4) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("services.yaml")).unwrap();
        let document = source::read("services.yaml", text.as_bytes()).unwrap().value;
        let env = ["prod", "staging", "dev", "ai"][env_index];
        let selection = Selection { env: env.into(), slot: "3".into(), issue: "19".into() };
        let baseline = outputs(&text, &selection);
        let mut state = seed;
        let shuffled = serde_yaml::to_string(&shuffle(&document, "", &mut state)).unwrap();
        // The property is only worth something if the input really changed.
        prop_assert_ne!(&shuffled, &serde_yaml::to_string(&document).unwrap());
        prop_assert_eq!(outputs(&shuffled, &selection), baseline);
    }
}

#[test]
fn the_same_input_gives_byte_identical_plans() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("services.yaml")).unwrap();
    let selection = Selection { env: "ai".into(), slot: "".into(), issue: "7".into() };
    assert_eq!(outputs(&text, &selection), outputs(&text, &selection));
}

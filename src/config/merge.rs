//! The deep merge of `imports` and `components`: maps merge key by key, lists and scalars
//! replace, and a `null` removes what the layer underneath set.
//!
//! Unlike an overlay's merge patch (`resolve::merge_patch`), the layer on top is moved in, not
//! copied: merging the whole document of an imported file, or a unit over its components,
//! costs what the layer on top holds and nothing more.

use serde_json::Value;

/// Merges `over` into `base`: where both hold a mapping, their keys merge recursively; anywhere
/// else `over` replaces `base`. A `null` in `over` removes the key `base` has there; over a key
/// `base` does not have it stays, so the schema reports it as it would without a merge.
pub fn deep_merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(base), Value::Object(over)) => {
            for (key, value) in over {
                match base.get_mut(&key) {
                    Some(_) if value.is_null() => {
                        base.shift_remove(&key);
                    }
                    Some(existing) => deep_merge(existing, value),
                    None => {
                        base.insert(key, value);
                    }
                }
            }
        }
        (base, over) => *base = over,
    }
}

#[cfg(test)]
mod tests {
    use super::deep_merge;
    use serde_json::json;

    fn merged(base: serde_json::Value, over: serde_json::Value) -> serde_json::Value {
        let mut base = base;
        deep_merge(&mut base, over);
        base
    }

    #[test]
    fn maps_merge_key_by_key_at_every_level() {
        let base = json!({"a": 1, "m": {"x": 1, "n": {"p": 1, "q": 2}}});
        let over = json!({"b": 2, "m": {"y": 2, "n": {"q": 3}}});
        assert_eq!(merged(base, over), json!({"a": 1, "b": 2, "m": {"x": 1, "y": 2, "n": {"p": 1, "q": 3}}}));
    }

    #[test]
    fn lists_and_scalars_replace_whole() {
        let base = json!({"list": [1, 2, 3], "s": "a", "objects": [{"name": "x", "v": 1}]});
        let over = json!({"list": [9], "s": "b", "objects": [{"name": "x"}]});
        assert_eq!(merged(base, over), json!({"list": [9], "s": "b", "objects": [{"name": "x"}]}));
    }

    #[test]
    fn a_different_kind_replaces_instead_of_merging() {
        assert_eq!(merged(json!({"a": {"x": 1}}), json!({"a": [1]})), json!({"a": [1]}));
        assert_eq!(merged(json!({"a": 5}), json!({"a": {"x": 1}})), json!({"a": {"x": 1}}));
        assert_eq!(merged(json!([1]), json!({"x": 1})), json!({"x": 1}));
    }

    #[test]
    fn null_removes_what_is_underneath_and_stays_where_nothing_is() {
        let base = json!({"probe": {"http": {"path": "/"}, "period": 2}});
        let over = json!({"probe": {"http": null, "tcp": {"port": 5}}, "other": null});
        assert_eq!(merged(base, over), json!({"probe": {"period": 2, "tcp": {"port": 5}}, "other": null}));
    }

    #[test]
    fn the_order_of_keys_underneath_is_kept() {
        let out = merged(json!({"a": 1, "b": 2, "c": 3}), json!({"d": 4, "b": null, "a": 0}));
        let keys: Vec<&String> = out.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["a", "c", "d"]);
    }
}

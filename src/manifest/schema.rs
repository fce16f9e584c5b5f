//! The JSON schema of `lambda.toml`, generated from the wire types, and the "did you mean"
//! suggestion for an unknown key, which takes its known keys from the same schema.

use std::collections::BTreeSet;

use super::wire;

/// The JSON schema of `lambda.toml`, as committed in `schemas/lambda.schema.json` (a test
/// compares the two).
#[cfg(test)]
pub fn schema_json() -> String {
    let schema = schemars::schema_for!(wire::Manifest);
    let mut text = serde_json::to_string_pretty(&schema).expect("schema serializes");
    text.push('\n');
    text
}

/// The known key nearest to a misspelt one (`requirement` -> `requirements`), if one is close:
/// at most two edits (Levenshtein, over characters) and fewer than half the known key's length.
pub(super) fn closest_key(key: &str) -> Option<String> {
    let schema = serde_json::to_value(schemars::schema_for!(wire::Manifest)).ok()?;
    let mut known = BTreeSet::new();
    collect_keys(&schema, &mut known);
    known
        .into_iter()
        .map(|candidate| (strsim::levenshtein(key, &candidate), candidate))
        .filter(|(distance, candidate)| *distance > 0 && *distance <= 2 && *distance < candidate.len() / 2)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Every property name anywhere in a JSON schema.
fn collect_keys(value: &serde_json::Value, known: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(properties)) = map.get("properties") {
                known.extend(properties.keys().cloned());
            }
            map.values().for_each(|value| collect_keys(value, known));
        }
        serde_json::Value::Array(values) => values.iter().for_each(|value| collect_keys(value, known)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_keys_get_the_nearest_known_key() {
        assert_eq!(closest_key("requirement").as_deref(), Some("requirements"));
        assert_eq!(closest_key("architecure").as_deref(), Some("architecture"));
        assert_eq!(closest_key("requirements_file").as_deref(), Some("requirements-file"));
        assert_eq!(closest_key("handlr").as_deref(), Some("handler"));
        // Two edits from `index`, `source` and others, but too short a key to guess from.
        assert_eq!(closest_key("api2"), None);
        assert_eq!(closest_key("colour"), None);
        // A known key is not misspelt.
        assert_eq!(closest_key("runtime"), None);
    }
}

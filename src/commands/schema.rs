//! `kubectl codex schema`: the JSON Schema of services.yaml.

use crate::config;
use crate::exit::Failure;

pub fn run() -> Result<(), Failure> {
    println!("{}", serde_json::to_string_pretty(config::schema::schema())?);
    Ok(())
}

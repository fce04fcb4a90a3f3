//! The deployment phases and their one fixed order.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A deployment phase. The declaration order *is* the deploy order (`Ord` follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Databases, queues, caches: everything with state the rest needs.
    Stateful,
    /// Schema migrations and other one-off Jobs against the stateful layer.
    Migrations,
    /// Internal domain services.
    Internal,
    /// Gateways and other services at the edge.
    Edge,
    /// The user-facing frontend.
    Frontend,
}

impl Phase {
    /// Every phase, in deploy order. The single definition of that order.
    pub const ORDER: [Phase; 5] = [Phase::Stateful, Phase::Migrations, Phase::Internal, Phase::Edge, Phase::Frontend];

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Stateful => "stateful",
            Phase::Migrations => "migrations",
            Phase::Internal => "internal",
            Phase::Edge => "edge",
            Phase::Frontend => "frontend",
        }
    }

    /// 1-based position in the deploy order, used in directory names (`01-stateful`).
    pub fn number(self) -> usize {
        Phase::ORDER.iter().position(|p| *p == self).map_or(0, |i| i + 1)
    }

    /// Directory name of this phase in `render` output.
    pub fn directory_name(self) -> String {
        format!("{:02}-{}", self.number(), self.as_str())
    }

    pub fn parse(text: &str) -> Option<Phase> {
        Phase::ORDER.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_stateful_migrations_internal_edge_frontend() {
        let names: Vec<_> = Phase::ORDER.iter().map(|p| p.as_str()).collect();
        assert_eq!(names, ["stateful", "migrations", "internal", "edge", "frontend"]);
        assert!(Phase::ORDER.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(Phase::Edge.directory_name(), "04-edge");
    }
}

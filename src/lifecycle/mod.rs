//! Environments over time: idle leases (TTL), reuse across review rounds, garbage collection.

pub mod gc;
pub mod revise;
pub mod ttl;

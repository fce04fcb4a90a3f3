//! Deploy evidence: one record per `up`/`revise` run, kept in the namespace, and a verifier
//! that proves the phase order from the records and Helm's own release history.

pub mod record;
pub(crate) mod store;
pub mod timeline;
pub(crate) mod verify;

//! Integration tests of `Conn`: both roles, limits, violations, streaming, chaos.

#[path = "../support/mod.rs"]
mod support;

mod chaos;
mod roles;
mod streaming;
mod violations;

//! One integration test binary for what every command shares: no output
//! ever written over an input (`overwrite`), and exit codes and output
//! modes that say what happened (`outputs`: a refusal of the system exits 3,
//! `-` is standard output, a closed pipe exits 0). Fixtures are synthetic
//! battles and the provisioned static table, built once per binary.
#[path = "../common/mod.rs"]
mod common;
mod determinism;
mod fixture;
mod outputs;
mod overwrite;

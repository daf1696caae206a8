//! knnpref: predict which of two chatbot answers a person prefers.
//!
//! Battles are read ([`data`]), embedded with a sentence model through ONNX
//! Runtime ([`embed`]), turned into features ([`features`]) with the help of
//! neighbour search ([`search`]), and scored by a calibrated, swap-symmetric
//! model ([`model`]); `index` stores a fitted model and [`pipeline`] ties
//! the stages into the commands; [`progress`] is where they report and how
//! a caller cancels them. Layers only point down, in that order;
//! `ARCHITECTURE.md` draws the picture and `tests/architecture.rs` checks it.
#![deny(missing_docs)]

pub mod data;
pub mod embed;
pub mod fault;
pub mod features;
pub mod fsio;
pub(crate) mod index;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod progress;
pub mod rand;
pub mod search;
pub mod synth;
pub(crate) mod table;
pub mod vectors;

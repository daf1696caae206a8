//! knnpref: predict which of two chatbot answers a person prefers.
//!
//! Battles are read ([`data`]), embedded with a sentence model through ONNX
//! Runtime ([`embed`]), indexed for nearest-neighbour look-ups ([`index`]),
//! turned into features ([`features`]) and scored by a calibrated, swap-
//! symmetric head ([`head`]). [`pipeline`] ties these into the commands.

pub mod cleanup;
pub mod data;
pub mod embed;
pub mod features;
pub mod head;
pub mod index;
pub mod jsonlist;
pub mod parquet_io;
pub mod pipeline;
pub mod rand;
pub mod synth;

//! The embedded log engine.
mod batch;
mod varint;
mod index;
mod segment;

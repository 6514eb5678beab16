//! layerscope: look inside container images.
//!
//! The core has no terminal dependency. Principal types:
//! - [`archive::Source`]: an opened archive or layout directory and the images it holds;
//! - [`load::load`] → [`load::Loaded`]: the selected [`image::Image`] with its merged
//!   [`tree::FileTree`] (every path, every layer's [`tree::Version`] and [`tree::Status`]);
//! - [`source`]: what an input names (path, `-`, image reference) and where the image
//!   is found (archive, Docker daemon, podman, containerd, registry);
//! - [`analysis::Analysis`]: dive-compatible and corrected figures;
//! - [`report`]: text, JSON and dive-JSON renderings; [`ci`]: rules and verdicts;
//! - [`source::registry`]: images read straight from a registry, as an OCI layout over HTTP;
//! - [`Error`]: the one error type; a layer's problem is a [`LayerFault`] to match on,
//!   a container engine's a [`DaemonFault`].
#![forbid(unsafe_code)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::panic))]

pub mod analysis;
pub mod archive;
pub mod ci;
pub mod content;
pub mod diff;
pub mod error;
pub mod extract;
pub mod glob;
pub mod image;
pub mod layer;
pub mod load;
pub mod origin;
pub mod progress;
pub mod report;
pub mod size;
pub mod source;
pub mod tarstream;
pub mod text;
pub mod tree;

pub use error::{DaemonFault, Error, LayerFault, Result};
#[cfg(feature = "tui")]
pub mod tui;

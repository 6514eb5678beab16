//! What a load is asked to do: which image, what to verify and hash, how an
//! input is resolved and opened. Plain settings, kept with the sources (which
//! read them) so that the loader depends on the sources and never the
//! other way round.

use crate::archive::{OpenOptions, Selector};
use crate::layer::ScanOptions;
use crate::origin::SourceKind;

/// How to load.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub selector: Selector,
    /// Check blob digests and diff IDs; a mismatch is an error (else a warning).
    pub verify: bool,
    pub scan: ScanOptions,
    /// How an input is resolved (`--source`, and the sources' settings).
    pub source: SourceOptions,
    /// How the source is opened (the spool limit for streams).
    pub open: OpenOptions,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            selector: Selector::default(),
            verify: true,
            scan: ScanOptions::default(),
            source: SourceOptions::default(),
            open: OpenOptions::default(),
        }
    }
}

/// How to resolve an input. Sources add their own settings here.
#[derive(Debug, Clone, Default)]
pub struct SourceOptions {
    /// `--source KIND`: use only this kind of source.
    pub kind: Option<SourceKind>,
    /// How registries are reached.
    pub registry: super::registry::Options,
}

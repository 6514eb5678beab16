//! Shared progress counters: the loader and the sources update them, a UI
//! or progress bar reads them from another thread.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Loading phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    Opening = 0,
    ReadingLayers = 1,
    Analysing = 2,
    Done = 3,
}

/// Shared progress counters, updated by the loader and read by a UI.
#[derive(Debug, Default)]
pub struct Progress {
    phase: AtomicU8,
    pub bytes_done: AtomicU64,
    pub bytes_total: AtomicU64,
    pub layers_done: AtomicUsize,
    pub layers_total: AtomicUsize,
    /// Layers not read because the other image of a pair (a diff, a CI
    /// baseline) read the same blob.
    pub layers_shared: AtomicUsize,
    /// Set by a UI to abandon loading.
    pub cancel: AtomicBool,
    /// What a source is waiting for before the first byte arrives ("the
    /// Docker daemon is exporting nginx:latest"), shown instead of a
    /// frozen bar; cleared when bytes flow.
    note: Mutex<Option<String>>,
    /// Per layer: stored bytes read so far and the blob's size (a
    /// registry's downloads, shown layer by layer).
    pub(crate) layer_bytes: Mutex<Vec<(u64, u64)>>,
}

impl Progress {
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Opening,
            1 => Phase::ReadingLayers,
            2 => Phase::Analysing,
            _ => Phase::Done,
        }
    }
    pub fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }

    /// Each layer's (bytes read, blob size), in layer order.
    pub fn layer_bytes(&self) -> Vec<(u64, u64)> {
        self.layer_bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn add_layer_bytes(&self, layer: usize, n: u64) {
        self.bytes_done.fetch_add(n, Ordering::Relaxed);
        if let Some(l) = self
            .layer_bytes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(layer)
        {
            l.0 += n;
        }
    }
    /// What the loader is waiting for, if anything.
    pub fn note(&self) -> Option<String> {
        self.note.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
    pub fn set_note(&self, note: Option<String>) {
        *self.note.lock().unwrap_or_else(|e| e.into_inner()) = note;
    }
}

//! The status-line text input both explorers share: typing, live search
//! and regex filtering, Esc restoring the field, Enter submitting (search,
//! filter, size, jump to a path; other prompts go back to the mode).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::host::{Focus, Host, Parts};
use super::table::RowSource;

/// A text input on the status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
    /// What the field held before (restored on Esc).
    pub before: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromptKind {
    Search,
    Filter,
    Size,
    Jump,
    ExtractTo,
    /// The content viewer's byte offset.
    Offset,
}

impl PromptKind {
    pub fn label(self) -> &'static str {
        match self {
            PromptKind::Search => "/",
            PromptKind::Filter => "filter regex: ",
            PromptKind::Size => "size (>10M, <=4KiB; M = 10⁶, MiB = 2²⁰): ",
            PromptKind::Jump => "go to path: ",
            PromptKind::ExtractTo => "extract to directory: ",
            PromptKind::Offset => "go to byte offset (1234, 0x4d2, 1MiB): ",
        }
    }
}

/// Open the prompt holding `text` (restored on Esc).
pub(crate) fn open_prompt(prompt: &mut Option<Prompt>, kind: PromptKind, text: String) {
    *prompt = Some(Prompt {
        kind,
        before: text.clone(),
        text,
    });
}

/// A key while the prompt is open; a prompt the shared code does not
/// submit goes to [`Host::submit_other`].
pub(crate) fn prompt_key<H: Host>(h: &mut H, k: KeyEvent) {
    let mut p = h.parts();
    let Some(pr) = p.ui.prompt.as_mut() else {
        return;
    };
    match k.code {
        KeyCode::Esc => {
            let Some(pr) = p.ui.prompt.take() else {
                return;
            };
            // Restore what the field held.
            match pr.kind {
                PromptKind::Search => set_search(&mut p, &pr.before, false),
                PromptKind::Filter => {
                    let _ = p.table.filter.set_regex(&pr.before);
                    rebuild(&mut p);
                }
                _ => {}
            }
        }
        KeyCode::Enter => {
            let Some(pr) = p.ui.prompt.take() else {
                return;
            };
            if let Some(other) = submit(&mut p, pr) {
                drop(p);
                h.submit_other(other);
            }
        }
        KeyCode::Backspace => {
            pr.text.pop();
            live(&mut p);
        }
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
            pr.text.push(c);
            live(&mut p);
        }
        KeyCode::Char('u') => {
            pr.text.clear();
            live(&mut p);
        }
        _ => {}
    }
}

fn rebuild<So, C, S>(p: &mut Parts<'_, So, C, S>)
where
    S: RowSource<Sort = So, Orders = C>,
    So: super::table::TableSort,
    C: Default,
{
    if let Some(src) = &p.src {
        p.table.rebuild(src);
    }
}

/// Search and regex filter update as the user types.
fn live<So, C, S>(p: &mut Parts<'_, So, C, S>)
where
    S: RowSource<Sort = So, Orders = C>,
    So: super::table::TableSort,
    C: Default,
{
    let Some(pr) = p.ui.prompt.clone() else {
        return;
    };
    match pr.kind {
        PromptKind::Search => set_search(p, &pr.text, true),
        PromptKind::Filter => match p.table.filter.set_regex(&pr.text) {
            Ok(()) => {
                p.ui.message = None;
                rebuild(p);
            }
            Err(e) => p.ui.message = Some(format!("regex: {e}")),
        },
        _ => {}
    }
}

fn set_search<So, C, S>(p: &mut Parts<'_, So, C, S>, q: &str, jump: bool)
where
    S: RowSource<Sort = So, Orders = C>,
    So: super::table::TableSort,
    C: Default,
{
    p.table.search.query = q.to_string();
    let Some(src) = &p.src else { return };
    p.table.refresh_search(src);
    if jump && p.table.jump_to_match(src, 0) {
        p.ui.focus = Focus::Tree;
    }
}

/// Submit `pr`; returns it when it is not one the shared code handles.
fn submit<So, C, S>(p: &mut Parts<'_, So, C, S>, pr: Prompt) -> Option<Prompt>
where
    S: RowSource<Sort = So, Orders = C>,
    So: super::table::TableSort,
    C: Default,
{
    match pr.kind {
        PromptKind::Search => {
            set_search(p, &pr.text, true);
            if !pr.text.is_empty() && p.table.search.matches.is_empty() {
                p.ui.message = Some(format!("no match for `{}`", pr.text));
            }
        }
        PromptKind::Filter => match p.table.filter.set_regex(&pr.text) {
            Ok(()) => rebuild(p),
            Err(e) => p.ui.message = Some(format!("regex: {e}")),
        },
        PromptKind::Size => match p.table.filter.set_size(&pr.text) {
            Ok(()) => rebuild(p),
            Err(e) => p.ui.message = Some(e),
        },
        PromptKind::Jump => {
            let Some(src) = &p.src else { return None };
            match p.table.jump_to_path(src, &pr.text) {
                Ok(()) => p.ui.focus = Focus::Tree,
                Err(m) => p.ui.message = Some(m),
            }
        }
        PromptKind::ExtractTo | PromptKind::Offset => return Some(pr),
    }
    None
}

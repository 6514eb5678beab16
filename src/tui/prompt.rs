//! The status-line text input both explorers share: typing, live search
//! and regex filtering, Esc restoring the field, Tab completing a path,
//! Enter submitting (search, filter, size, jump to a path; other prompts,
//! and what a submit found nothing of in the view, go back to the mode).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::host::{Focus, Host, Parts, Unseen};
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
            let submitted = submit(&mut p, pr);
            drop(p);
            match submitted {
                Submitted::Done => {}
                Submitted::Other(other) => h.submit_other(other),
                Submitted::Unseen(u) => h.unseen(u),
            }
        }
        KeyCode::Tab if pr.kind == PromptKind::Jump => complete_path(&mut p),
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

/// Tab in the `:` prompt: complete the last path component, as a shell
/// does: the one match (a directory gets its `/`), else the longest common
/// prefix with the candidates on the status line.
fn complete_path<So, C, S: RowSource>(p: &mut Parts<'_, So, C, S>) {
    let (Some(pr), Some(src)) = (p.ui.prompt.as_mut(), &p.src) else {
        return;
    };
    let text = if pr.text.starts_with('/') {
        pr.text.clone()
    } else {
        format!("/{}", pr.text)
    };
    let (dir, part) = text.rsplit_once('/').unwrap_or(("", &text));
    let dir = format!("{dir}/");
    // One pass: the matching names in `dir`, and which of them have
    // something below (directories).
    let mut names: std::collections::BTreeMap<&str, bool> = Default::default();
    for key in 1..src.keys() as u32 {
        let Some(rest) = src.path(key).strip_prefix(dir.as_str()) else {
            continue;
        };
        let (name, below) = match rest.split_once('/') {
            Some((n, _)) => (n, true),
            None => (rest, false),
        };
        if !name.is_empty() && name.starts_with(part) {
            *names.entry(name).or_default() |= below;
        }
    }
    let names: Vec<(&str, bool)> = names.into_iter().collect();
    let (new_text, msg) = match names.as_slice() {
        [] => (text.clone(), Some(format!("no path starts with {text}"))),
        [(n, d)] => (format!("{dir}{n}{}", if *d { "/" } else { "" }), None),
        many => {
            let first = many[0].0;
            let mut common = many.iter().fold(first.len(), |l, (n, _)| {
                first
                    .bytes()
                    .zip(n.bytes())
                    .take(l)
                    .take_while(|(a, b)| a == b)
                    .count()
            });
            while !first.is_char_boundary(common) {
                common -= 1;
            }
            let shown: Vec<&str> = many.iter().take(12).map(|(n, _)| *n).collect();
            let more = if many.len() > 12 { " …" } else { "" };
            (
                format!("{dir}{}", &first[..common]),
                Some(format!("{}{more}", shown.join("  "))),
            )
        }
    };
    pr.text = new_text;
    p.ui.message = msg;
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

/// What a submitted prompt leaves to the mode.
enum Submitted {
    Done,
    /// A prompt the shared code does not handle.
    Other(Prompt),
    /// Nothing shown for it in this view.
    Unseen(Unseen),
}

/// Submit `pr`.
fn submit<So, C, S>(p: &mut Parts<'_, So, C, S>, pr: Prompt) -> Submitted
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
                return Submitted::Unseen(Unseen::Search);
            }
        }
        PromptKind::Filter => match p.table.filter.set_regex(&pr.text) {
            Ok(()) => {
                rebuild(p);
                if p.table.rows.is_empty() && p.table.filter.regex.is_some() {
                    return Submitted::Unseen(Unseen::Filter);
                }
            }
            Err(e) => p.ui.message = Some(format!("regex: {e}")),
        },
        PromptKind::Size => match p.table.filter.set_size(&pr.text) {
            Ok(()) => rebuild(p),
            Err(e) => p.ui.message = Some(e),
        },
        PromptKind::Jump => {
            let Some(src) = &p.src else {
                return Submitted::Done;
            };
            match p.table.jump_to_path(src, &pr.text) {
                Ok(()) => p.ui.focus = Focus::Tree,
                Err(m) => {
                    p.ui.message = Some(m);
                    let key = src.find(pr.text.trim()).filter(|&k| k != 0);
                    if let Some(k) = key.filter(|&k| !src.in_view(k)) {
                        return Submitted::Unseen(Unseen::Path(k));
                    }
                }
            }
        }
        PromptKind::ExtractTo | PromptKind::Offset => return Submitted::Other(pr),
    }
    Submitted::Done
}

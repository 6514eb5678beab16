//! The status-line text input shared by the explorer and the diff mode:
//! typing, live search and regex filtering, Esc restoring the field and
//! Enter submitting, and stepping through search matches. Each mode's
//! state gives access to its prompt, filter and search through
//! [`PromptHost`] and handles what differs (jumping to a path, extraction).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::config::{Action, Config, Key};
use super::state::{Filter, Prompt, PromptKind, Search};

/// What the shared prompt handling needs of a mode's state.
pub(crate) trait PromptHost {
    fn prompt_mut(&mut self) -> &mut Option<Prompt>;
    fn filter_mut(&mut self) -> &mut Filter;
    fn search_mut(&mut self) -> &mut Search;
    fn message_mut(&mut self) -> &mut Option<String>;
    fn recompute_order(&mut self);
    fn recompute_search(&mut self);
    /// Show the search match `key` in the tree and focus the tree.
    fn reveal_match(&mut self, key: u32);
    /// Submit a prompt the shared code does not handle (Jump, ExtractTo).
    fn submit_other(&mut self, p: Prompt);
    fn config(&self) -> &Config;
    /// Is the data loaded?
    fn loaded(&self) -> bool;
    fn popup_open(&self) -> bool;
    /// Is the "terminal too small" screen shown instead of the panes?
    fn too_small(&self) -> bool;
    /// Every path of the data (for Tab completion of the `:` prompt), or
    /// an empty list before loading.
    fn paths(&self) -> Vec<&str>;
    /// After a search or filter was submitted (to say where matches are
    /// when the view has none).
    fn after_submit(&mut self, _kind: PromptKind) {}
}

/// The field accessors of [`PromptHost`], for a mode state with fields
/// `prompt`, `filter`, `search`, `message`, `config`, `data` and `popup`
/// (both modes name them so); used inside the `impl PromptHost` block.
macro_rules! prompt_host_fields {
    () => {
        fn prompt_mut(&mut self) -> &mut Option<$crate::tui::state::Prompt> {
            &mut self.prompt
        }
        fn filter_mut(&mut self) -> &mut $crate::tui::state::Filter {
            &mut self.filter
        }
        fn search_mut(&mut self) -> &mut $crate::tui::state::Search {
            &mut self.search
        }
        fn message_mut(&mut self) -> &mut Option<String> {
            &mut self.message
        }
        fn config(&self) -> &$crate::tui::config::Config {
            &self.config
        }
        fn loaded(&self) -> bool {
            self.data.is_some()
        }
        fn popup_open(&self) -> bool {
            self.popup.is_some()
        }
        fn too_small(&self) -> bool {
            $crate::tui::view::is_too_small(self.screen)
        }
        fn paths(&self) -> Vec<&str> {
            self.data.as_ref().map_or_else(Vec::new, |d| d.all_paths())
        }
    };
}
pub(crate) use prompt_host_fields;

/// Where a key goes once [`route_key`] has looked at it.
pub(crate) enum KeyRoute {
    /// Handled (by the prompt) or ignored.
    Done,
    Quit,
    /// To the open popup, with the key's action if it has one.
    Popup(Option<Action>),
    /// The key's action, if it has one.
    Action(Option<Action>),
}

/// The key handling both modes share: releases ignored, ctrl-c quits, the
/// prompt takes keys while open; while loading, or while the screen is too
/// small to show anything, only `q` and ctrl-c act (a key must never act
/// unseen) and others get a hint; in a popup `q` and Esc close it (as in
/// less and man); a key bound to nothing says so.
pub(crate) fn route_key<S: PromptHost>(s: &mut S, k: KeyEvent) -> KeyRoute {
    if k.kind == KeyEventKind::Release {
        return KeyRoute::Done;
    }
    let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
    if ctrl_c {
        return KeyRoute::Quit;
    }
    if s.prompt_mut().is_some() {
        prompt_key(s, k);
        return KeyRoute::Done;
    }
    *s.message_mut() = None;
    let key = Key::from_event(&k);
    let act = s.config().keys.action(&key);
    if act == Some(Action::Quit) && !s.popup_open() {
        return KeyRoute::Quit;
    }
    if s.too_small() {
        return KeyRoute::Done;
    }
    if !s.loaded() {
        *s.message_mut() = Some(format!(
            "{}: not while loading (q or ctrl-c quits)",
            key.label()
        ));
        return KeyRoute::Done;
    }
    if s.popup_open() {
        return KeyRoute::Popup(act);
    }
    if act.is_none() && !is_modifier_only(&k) {
        *s.message_mut() = Some(format!(
            "{}: not bound to anything (? lists the keys)",
            key.label()
        ));
    }
    KeyRoute::Action(act)
}

/// Keys that are no key on their own (a lone Shift reported by some
/// terminals).
fn is_modifier_only(k: &KeyEvent) -> bool {
    matches!(k.code, KeyCode::Modifier(_) | KeyCode::Null)
}

/// Open the prompt holding `text` (restored on Esc).
pub(crate) fn open_prompt<S: PromptHost>(s: &mut S, kind: PromptKind, text: String) {
    *s.prompt_mut() = Some(Prompt {
        kind,
        before: text.clone(),
        text,
    });
}

/// Open the search prompt, vim-style: empty; Esc restores the previous query.
pub(crate) fn open_search<S: PromptHost>(s: &mut S) {
    let before = s.search_mut().query.clone();
    *s.prompt_mut() = Some(Prompt {
        kind: PromptKind::Search,
        text: String::new(),
        before,
    });
}

/// A key while the prompt is open.
fn prompt_key<S: PromptHost>(s: &mut S, k: KeyEvent) {
    let Some(p) = s.prompt_mut().as_mut() else {
        return;
    };
    match k.code {
        KeyCode::Esc => {
            let Some(p) = s.prompt_mut().take() else {
                return;
            };
            // Restore what the field held.
            match p.kind {
                PromptKind::Search => set_search(s, &p.before, false),
                PromptKind::Filter => {
                    let _ = s.filter_mut().set_regex(&p.before);
                    s.recompute_order();
                }
                _ => {}
            }
        }
        KeyCode::Enter => {
            let Some(p) = s.prompt_mut().take() else {
                return;
            };
            submit_prompt(s, p);
        }
        KeyCode::Tab if p.kind == PromptKind::Jump => complete_path(s),
        KeyCode::Backspace => {
            p.text.pop();
            live_prompt(s);
        }
        KeyCode::Char(c) if !k.modifiers.contains(KeyModifiers::CONTROL) => {
            p.text.push(c);
            live_prompt(s);
        }
        KeyCode::Char('u') => {
            p.text.clear();
            live_prompt(s);
        }
        _ => {}
    }
}

/// Tab in the `:` prompt: complete the last path component, as a shell
/// does: the one match (a directory gets its `/`), else the longest common
/// prefix with the candidates on the status line.
fn complete_path<S: PromptHost>(s: &mut S) {
    let Some(text) = s.prompt_mut().as_ref().map(|p| p.text.clone()) else {
        return;
    };
    let text = if text.starts_with('/') {
        text
    } else {
        format!("/{text}")
    };
    let (dir, part) = text.rsplit_once('/').unwrap_or(("", &text));
    let dir = format!("{dir}/");
    // One pass: the matching names in `dir`, and which of them have
    // something below (directories).
    let mut names: std::collections::BTreeMap<String, bool> = Default::default();
    for p in s.paths() {
        let Some(rest) = p.strip_prefix(dir.as_str()) else {
            continue;
        };
        let (name, below) = match rest.split_once('/') {
            Some((n, _)) => (n, true),
            None => (rest, false),
        };
        if !name.is_empty() && name.starts_with(part) {
            *names.entry(name.to_string()).or_default() |= below;
        }
    }
    let names: Vec<(String, bool)> = names.into_iter().collect();
    let (new_text, msg) = match names.as_slice() {
        [] => (text.clone(), Some(format!("no path starts with {text}"))),
        [(n, d)] => (format!("{dir}{n}{}", if *d { "/" } else { "" }), None),
        many => {
            let first = &many[0].0;
            let common = many.iter().fold(first.len(), |l, (n, _)| {
                first
                    .bytes()
                    .zip(n.bytes())
                    .take(l)
                    .take_while(|(a, b)| a == b)
                    .count()
            });
            let mut common = common;
            while !first.is_char_boundary(common) {
                common -= 1;
            }
            let shown: Vec<&str> = many.iter().take(12).map(|(n, _)| n.as_str()).collect();
            let more = if many.len() > 12 { " …" } else { "" };
            (
                format!("{dir}{}", &first[..common]),
                Some(format!("{}{more}", shown.join("  "))),
            )
        }
    };
    if let Some(p) = s.prompt_mut().as_mut() {
        p.text = new_text;
    }
    *s.message_mut() = msg;
}

/// Search and regex filter update as the user types.
fn live_prompt<S: PromptHost>(s: &mut S) {
    let Some(p) = s.prompt_mut().clone() else {
        return;
    };
    match p.kind {
        PromptKind::Search => set_search(s, &p.text, true),
        PromptKind::Filter => match s.filter_mut().set_regex(&p.text) {
            Ok(()) => {
                *s.message_mut() = None;
                s.recompute_order();
            }
            Err(e) => *s.message_mut() = Some(format!("regex: {e}")),
        },
        _ => {}
    }
}

fn set_search<S: PromptHost>(s: &mut S, q: &str, jump: bool) {
    s.search_mut().query = q.to_string();
    s.recompute_search();
    if jump {
        jump_to_match(s, 0);
    }
}

fn submit_prompt<S: PromptHost>(s: &mut S, p: Prompt) {
    match p.kind {
        PromptKind::Search => {
            set_search(s, &p.text, true);
            if !p.text.is_empty() && s.search_mut().matches.is_empty() {
                *s.message_mut() = Some(format!("no match for `{}`", p.text));
                s.after_submit(PromptKind::Search);
            }
        }
        PromptKind::Filter => match s.filter_mut().set_regex(&p.text) {
            Ok(()) => {
                s.recompute_order();
                s.after_submit(PromptKind::Filter);
            }
            Err(e) => *s.message_mut() = Some(format!("regex: {e}")),
        },
        PromptKind::Size => match s.filter_mut().set_size(&p.text) {
            Ok(()) => s.recompute_order(),
            Err(e) => *s.message_mut() = Some(e),
        },
        PromptKind::Jump | PromptKind::ExtractTo | PromptKind::Offset => s.submit_other(p),
    }
}

/// Move to the match `step` away from the current one (0: nearest at or after the cursor).
pub(crate) fn jump_to_match<S: PromptHost>(s: &mut S, step: isize) {
    let search = s.search_mut();
    let n = search.matches.len();
    if n == 0 {
        return;
    }
    let i = match (search.current, step) {
        (None, _) => 0,
        (Some(c), 0) => c,
        (Some(c), d) => (c as isize + d).rem_euclid(n as isize) as usize,
    };
    search.current = Some(i);
    let key = search.matches[i];
    s.reveal_match(key);
}

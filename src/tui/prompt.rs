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
/// prompt takes keys while open, only quitting while loading.
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
    let act = s.config().keys.action(&Key::from_event(&k));
    if !s.loaded() {
        // While loading (or after a load error) only quitting makes sense.
        return match (act, k.code) {
            (Some(Action::Quit), _) | (_, KeyCode::Esc) => KeyRoute::Quit,
            _ => KeyRoute::Done,
        };
    }
    if s.popup_open() {
        return KeyRoute::Popup(act);
    }
    KeyRoute::Action(act)
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
            }
        }
        PromptKind::Filter => match s.filter_mut().set_regex(&p.text) {
            Ok(()) => s.recompute_order(),
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

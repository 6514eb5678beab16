//! The explorer's configuration: key bindings, theme and default view
//! options, read from `$XDG_CONFIG_HOME/layerscope/config.yaml` (or
//! `~/.config/...`, or `--config FILE`). Every action has a name, default
//! keys and a help line in one table, so the help overlay, the key map and
//! the config file cannot drift apart.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use crate::tree::Status;

/// Everything a key can do outside text prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Collapse,
    Expand,
    Toggle,
    Open,
    CollapseAll,
    ExpandAll,
    ExpandDepth,
    CycleMode,
    MarkRange,
    Search,
    NextMatch,
    PrevMatch,
    JumpPath,
    FilterRegex,
    FilterSize,
    ToggleAdded,
    ToggleModified,
    ToggleDeleted,
    ToggleMetadata,
    ToggleUnchanged,
    OnlyWasted,
    ClearFilters,
    SortKey,
    SortDirection,
    Details,
    Content,
    ImageDetails,
    Extract,
    CopyPath,
    Warnings,
}

/// (action, config name, default keys, help text). The ctrl keys are
/// dive's, so its users' habits work (`ctrl-m` reaches us only from
/// terminals that tell it from Enter); paging is on PgUp/PgDn only.
pub const ACTIONS: &[(Action, &str, &[&str], &str)] = &[
    (
        Action::Quit,
        "quit",
        &["q", "ctrl-c"],
        "quit (ctrl-c works in prompts)",
    ),
    (Action::Help, "help", &["?", "f1"], "this help"),
    (Action::FocusNext, "focus_next", &["tab"], "next pane"),
    (
        Action::FocusPrev,
        "focus_prev",
        &["backtab"],
        "previous pane",
    ),
    (Action::Up, "up", &["k", "up"], "move up"),
    (Action::Down, "down", &["j", "down"], "move down"),
    (Action::PageUp, "page_up", &["pgup"], "page up"),
    (Action::PageDown, "page_down", &["pgdn"], "page down"),
    (Action::Home, "home", &["home", "g"], "first row"),
    (Action::End, "end", &["end", "G"], "last row"),
    (
        Action::Collapse,
        "collapse",
        &["h", "left"],
        "collapse / go to parent",
    ),
    (
        Action::Expand,
        "expand",
        &["l", "right"],
        "expand directory",
    ),
    (
        Action::Toggle,
        "toggle",
        &["space"],
        "collapse/expand directory",
    ),
    (
        Action::Open,
        "open",
        &["enter"],
        "toggle dir / file details",
    ),
    (
        Action::CollapseAll,
        "collapse_all",
        &["-", "ctrl-space"],
        "collapse all directories",
    ),
    (
        Action::ExpandAll,
        "expand_all",
        &["=", "+"],
        "expand all directories",
    ),
    (
        Action::ExpandDepth,
        "expand_depth",
        &["*"],
        "expand to the next depth",
    ),
    (
        Action::CycleMode,
        "cycle_mode",
        &["v", "ctrl-l"],
        "per-layer / aggregated view",
    ),
    (
        Action::MarkRange,
        "mark_range",
        &["m"],
        "range: A = this, B = selected",
    ),
    (
        Action::Search,
        "search",
        &["/"],
        "search (text, smart case)",
    ),
    (Action::NextMatch, "next_match", &["n"], "next match"),
    (Action::PrevMatch, "prev_match", &["N"], "previous match"),
    (Action::JumpPath, "jump_path", &[":"], "jump to a path"),
    (
        Action::FilterRegex,
        "filter_regex",
        &["f", "ctrl-f"],
        "filter (regex, smart case)",
    ),
    (
        Action::FilterSize,
        "filter_size",
        &["z"],
        "filter files by size (>10M)",
    ),
    (
        Action::ToggleAdded,
        "toggle_added",
        &["1", "ctrl-a"],
        "show/hide added",
    ),
    (
        Action::ToggleModified,
        "toggle_modified",
        &["2", "ctrl-m"],
        "show/hide modified",
    ),
    (
        Action::ToggleDeleted,
        "toggle_deleted",
        &["3", "ctrl-r"],
        "show/hide deleted",
    ),
    (
        Action::ToggleMetadata,
        "toggle_metadata",
        &["4"],
        "show/hide metadata-only",
    ),
    (
        Action::ToggleUnchanged,
        "toggle_unchanged",
        &["5", "ctrl-u"],
        "show/hide unchanged",
    ),
    (
        Action::OnlyWasted,
        "only_wasted",
        &["w"],
        "only paths with wasted bytes",
    ),
    (
        Action::ClearFilters,
        "clear_filters",
        &["F"],
        "clear filters and search",
    ),
    (
        Action::SortKey,
        "sort_key",
        &["s", "ctrl-o"],
        "sort by name / size",
    ),
    (
        Action::SortDirection,
        "sort_direction",
        &["S"],
        "sort ascending / descending",
    ),
    (
        Action::Details,
        "details",
        &["d", "ctrl-b"],
        "file details and timeline",
    ),
    (Action::Content, "content", &["o"], "view file content"),
    (
        Action::ImageDetails,
        "image_details",
        &["i"],
        "image details, config, history",
    ),
    (
        Action::Extract,
        "extract",
        &["x", "ctrl-e"],
        "extract file or directory",
    ),
    (
        Action::CopyPath,
        "copy_path",
        &["y"],
        "copy path (OSC 52 clipboard)",
    ),
    (
        Action::Warnings,
        "warnings",
        &["W"],
        "load warnings (the ⚠ marker)",
    ),
];

/// Keys inside popups: each popup reads only its own, so they may share
/// keys with each other and with the main [`Action`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PopupAction {
    /// Content viewer: hex or text.
    ViewerHex,
    /// Content viewer: the next / previous 64 KiB window.
    ViewerNext,
    ViewerPrev,
    /// Image details: jump to the selected wasted path.
    JumpToPath,
    /// Image details: scroll the lower part.
    ScrollDown,
    ScrollUp,
    /// Line diff: the next / previous run of changes.
    NextChange,
    PrevChange,
}

/// (popup action, config name, default keys).
pub const POPUP_ACTIONS: &[(PopupAction, &str, &[&str])] = &[
    (PopupAction::ViewerHex, "viewer_hex", &["x"]),
    (PopupAction::ViewerNext, "viewer_next", &["]"]),
    (PopupAction::ViewerPrev, "viewer_prev", &["["]),
    (PopupAction::JumpToPath, "jump_to_path", &["enter"]),
    (
        PopupAction::ScrollDown,
        "details_scroll_down",
        &["J", "space"],
    ),
    (PopupAction::ScrollUp, "details_scroll_up", &["K"]),
    (PopupAction::NextChange, "next_change", &["]", "n"]),
    (PopupAction::PrevChange, "prev_change", &["[", "N"]),
];
/// The README's key table (keys, config name, what it does), from the same
/// table as the help popup and the key map; a test keeps README.md equal
/// to it.
pub fn markdown_key_table() -> String {
    let km = KeyMap::defaults();
    let mut out = String::from("| keys | config name | what it does |\n|---|---|---|\n");
    for (a, name, _, text) in ACTIONS {
        let keys = km
            .keys
            .get(a)
            .map(|ks| {
                ks.iter()
                    .map(|k| format!("`{}`", k.label().replace('|', "\\|")))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        out.push_str(&format!("| {keys} | `{name}` | {text} |\n"));
    }
    out
}

/// Every action's config name, in help order.
pub fn action_names() -> Vec<&'static str> {
    ACTIONS.iter().map(|(_, n, ..)| *n).collect()
}

/// The config name of `a`.
pub fn action_name(a: Action) -> &'static str {
    ACTIONS
        .iter()
        .find(|(x, ..)| *x == a)
        .map_or("?", |(_, n, ..)| *n)
}

/// A key with its modifiers, normalised (Shift folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        let mut mods = ev.modifiers & (KeyModifiers::CONTROL | KeyModifiers::ALT);
        let code = match ev.code {
            KeyCode::BackTab => KeyCode::BackTab,
            KeyCode::Char(c) => {
                if ev.modifiers.contains(KeyModifiers::CONTROL) {
                    mods = KeyModifiers::CONTROL | (ev.modifiers & KeyModifiers::ALT);
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            c => c,
        };
        Key { code, mods }
    }

    /// Parse `q`, `G`, `ctrl-c`, `alt-x`, `enter`, `pgdn`, `f1`…
    pub fn parse(s: &str) -> Option<Key> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.len() > 1 && lower.starts_with("ctrl-") {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[5..];
            } else if rest.len() > 1 && lower.starts_with("alt-") {
                mods |= KeyModifiers::ALT;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => {
                if mods.contains(KeyModifiers::CONTROL) {
                    KeyCode::Char(c.to_ascii_lowercase())
                } else {
                    KeyCode::Char(c)
                }
            }
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" => KeyCode::Tab,
                "backtab" | "shift-tab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "backspace" => KeyCode::Backspace,
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "pgup" | "pageup" => KeyCode::PageUp,
                "pgdn" | "pagedown" => KeyCode::PageDown,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "delete" | "del" => KeyCode::Delete,
                f if f.starts_with('f') => KeyCode::F(f[1..].parse().ok()?),
                _ => return None,
            },
        };
        Some(Key { code, mods })
    }

    pub fn label(&self) -> String {
        let base = match self.code {
            KeyCode::Char(' ') => "space".to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::Enter => "enter".into(),
            KeyCode::Esc => "esc".into(),
            KeyCode::Tab => "tab".into(),
            KeyCode::BackTab => "shift-tab".into(),
            KeyCode::Up => "↑".into(),
            KeyCode::Down => "↓".into(),
            KeyCode::Left => "←".into(),
            KeyCode::Right => "→".into(),
            KeyCode::PageUp => "pgup".into(),
            KeyCode::PageDown => "pgdn".into(),
            KeyCode::Home => "home".into(),
            KeyCode::End => "end".into(),
            KeyCode::F(n) => format!("f{n}"),
            other => format!("{other:?}").to_lowercase(),
        };
        let mut s = String::new();
        if self.mods.contains(KeyModifiers::CONTROL) {
            s.push_str("ctrl-");
        }
        if self.mods.contains(KeyModifiers::ALT) {
            s.push_str("alt-");
        }
        s + &base
    }
}

/// Key → action, and the keys of each action (for help).
#[derive(Debug, Clone, Default)]
pub struct KeyMap {
    map: HashMap<Key, Action>,
    keys: HashMap<Action, Vec<Key>>,
    popup: HashMap<PopupAction, Vec<Key>>,
    /// Keys a rebinding took from another action, with that action.
    displaced: HashMap<Key, Action>,
}

impl KeyMap {
    pub fn defaults() -> KeyMap {
        let mut km = KeyMap::default();
        for (a, _, keys, _) in ACTIONS {
            for k in keys.iter().filter_map(|k| Key::parse(k)) {
                km.bind(k, *a);
            }
        }
        for (a, _, keys) in POPUP_ACTIONS {
            let keys = keys.iter().filter_map(|k| Key::parse(k)).collect();
            km.popup.insert(*a, keys);
        }
        km.displaced.clear();
        km
    }

    /// Which of a popup's actions `k` does, if any.
    pub fn popup_action(&self, k: &Key, of: &[PopupAction]) -> Option<PopupAction> {
        of.iter()
            .copied()
            .find(|a| self.popup.get(a).is_some_and(|ks| ks.contains(k)))
    }

    /// The keys of a popup action, as hints name them (`]`, `n`).
    pub fn popup_labels(&self, a: PopupAction) -> Vec<String> {
        self.popup
            .get(&a)
            .map(|ks| ks.iter().map(Key::label).collect())
            .unwrap_or_default()
    }

    /// The first key of a popup action (`<name>` when unbound).
    pub fn popup_label(&self, a: PopupAction) -> String {
        match self.popup_labels(a).into_iter().next() {
            Some(k) => k,
            None => {
                let name = POPUP_ACTIONS.iter().find(|r| r.0 == a).map_or("", |r| r.1);
                format!("<{name}>")
            }
        }
    }

    fn bind(&mut self, k: Key, a: Action) {
        if let Some(old) = self.map.insert(k, a) {
            if let Some(v) = self.keys.get_mut(&old) {
                v.retain(|x| *x != k);
            }
            if old != a {
                self.displaced.insert(k, old);
            }
        }
        self.keys.entry(a).or_default().push(k);
    }

    fn rebind(&mut self, a: Action, keys: &[Key]) {
        for k in self.keys.remove(&a).unwrap_or_default() {
            self.map.remove(&k);
        }
        for &k in keys {
            self.bind(k, a);
        }
    }

    /// The action `k` was taken from by the last rebinding, once.
    fn take_displaced(&mut self, k: Key) -> Option<Action> {
        self.displaced.remove(&k)
    }

    pub fn action(&self, k: &Key) -> Option<Action> {
        self.map.get(k).copied()
    }

    /// Keys bound to `a`, as shown in help (`q, ctrl-c`).
    pub fn keys_label(&self, a: Action) -> String {
        self.keys
            .get(&a)
            .map(|ks| ks.iter().map(Key::label).collect::<Vec<_>>().join(", "))
            .unwrap_or_default()
    }

    /// The first key bound to `a`, as hints name it (`q`); an unbound
    /// action is named as the config file names it (`<quit>`).
    pub fn first_label(&self, a: Action) -> String {
        match self.keys.get(&a).and_then(|ks| ks.first()) {
            Some(k) => k.label(),
            None => {
                let name = ACTIONS.iter().find(|(x, ..)| *x == a).map_or("", |r| r.1);
                format!("<{name}>")
            }
        }
    }
}

/// Colours and emphasis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    #[serde(alias = "no-colour", alias = "no-color", alias = "none")]
    None,
}

#[derive(Debug, Clone)]
pub struct Theme {
    pub name: ThemeName,
    pub text: Style,
    pub dim: Style,
    pub title: Style,
    pub border: Style,
    pub border_focus: Style,
    pub selected: Style,
    pub selected_unfocused: Style,
    pub waste: Style,
    pub key: Style,
    pub statuses: [Style; 5],
    pub bar: Style,
}

impl Theme {
    pub fn new(name: ThemeName) -> Theme {
        let s = Style::default();
        match name {
            ThemeName::None => Theme {
                name,
                text: s,
                dim: s,
                title: s.add_modifier(Modifier::BOLD),
                border: s,
                border_focus: s.add_modifier(Modifier::BOLD),
                selected: s.add_modifier(Modifier::REVERSED),
                selected_unfocused: s.add_modifier(Modifier::UNDERLINED),
                waste: s.add_modifier(Modifier::BOLD),
                key: s.add_modifier(Modifier::BOLD),
                statuses: [s; 5],
                bar: s.add_modifier(Modifier::REVERSED),
            },
            ThemeName::Dark | ThemeName::Light => {
                let dark = name == ThemeName::Dark;
                let fg = |d: Color, l: Color| s.fg(if dark { d } else { l });
                Theme {
                    name,
                    text: s,
                    // Light: ANSI 8, not 7 (white-ish grey, near invisible
                    // on a light background).
                    dim: fg(Color::DarkGray, Color::DarkGray),
                    title: fg(Color::Cyan, Color::Blue).add_modifier(Modifier::BOLD),
                    border: fg(Color::DarkGray, Color::DarkGray),
                    border_focus: fg(Color::Cyan, Color::Blue),
                    selected: if dark {
                        s.bg(Color::Cyan).fg(Color::Black)
                    } else {
                        s.bg(Color::Blue).fg(Color::White)
                    },
                    selected_unfocused: if dark {
                        s.bg(Color::DarkGray).fg(Color::White)
                    } else {
                        s.bg(Color::Gray).fg(Color::Black)
                    },
                    waste: fg(Color::LightRed, Color::Red).add_modifier(Modifier::BOLD),
                    key: fg(Color::Yellow, Color::Magenta).add_modifier(Modifier::BOLD),
                    statuses: [
                        fg(Color::Green, Color::Green),
                        fg(Color::Yellow, Color::Rgb(160, 110, 0)),
                        fg(Color::Red, Color::Red),
                        fg(Color::Magenta, Color::Magenta),
                        s,
                    ],
                    bar: fg(Color::Cyan, Color::Blue),
                }
            }
        }
    }

    pub fn status(&self, s: Status) -> Style {
        let i = Status::ALL.iter().position(|x| *x == s).unwrap_or(4);
        self.statuses[i]
    }
}

/// Default view options.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ViewDefaults {
    /// `layer` or `aggregated`.
    pub mode: Option<String>,
    /// `name` or `size`.
    pub sort: Option<String>,
    pub descending: bool,
    /// Collapse directories at this depth and below (0: all expanded).
    pub collapse_depth: u16,
    pub hide_unchanged: bool,
}

/// The config file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct ConfigFile {
    pub theme: Option<ThemeName>,
    pub view: ViewDefaults,
    /// Action name → keys.
    pub keys: HashMap<String, Vec<String>>,
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub path: Option<PathBuf>,
    pub theme: Theme,
    pub keys: KeyMap,
    pub view: ViewDefaults,
    /// What the config file did that it may not have meant (a key taken
    /// from another action), shown on the status line at start.
    pub warnings: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            path: None,
            theme: Theme::new(ThemeName::Dark),
            keys: KeyMap::defaults(),
            view: ViewDefaults::default(),
            warnings: Vec::new(),
        }
    }
}

/// `$XDG_CONFIG_HOME/layerscope/config.yaml`, else `~/.config/...`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("layerscope").join("config.yaml"))
}

impl Config {
    /// Read `explicit` (must exist) or the default file (if present).
    /// `NO_COLOR` wins over the theme.
    pub fn load(explicit: Option<&Path>) -> crate::Result<Config> {
        let (path, must) = match explicit {
            Some(p) => (Some(p.to_path_buf()), true),
            None => (default_path(), false),
        };
        let mut cfg = Config {
            path: path.clone(),
            ..Config::default()
        };
        let text = match &path {
            Some(p) => match std::fs::read_to_string(p) {
                Ok(t) => Some(t),
                Err(e) if !must && e.kind() == std::io::ErrorKind::NotFound => None,
                Err(e) => {
                    return Err(crate::Error::Usage(format!(
                        "{}: cannot read the config file: {e}",
                        p.display()
                    )))
                }
            },
            None => None,
        };
        if let (Some(text), Some(p)) = (text, &path) {
            let file = Config::parse(&text)
                .map_err(|m| crate::Error::Usage(format!("{}: {m}", p.display())))?;
            cfg.apply(file)
                .map_err(|m| crate::Error::Usage(format!("{}: {m}", p.display())))?;
        }
        if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
            cfg.theme = Theme::new(ThemeName::None);
        }
        Ok(cfg)
    }

    pub fn parse(text: &str) -> Result<ConfigFile, String> {
        if text.trim().is_empty() {
            return Ok(ConfigFile::default());
        }
        serde_yaml_ng::from_str(text).map_err(|e| e.to_string())
    }

    pub fn apply(&mut self, file: ConfigFile) -> Result<(), String> {
        if let Some(t) = file.theme {
            self.theme = Theme::new(t);
        }
        // In name order, so the warnings come out the same every time.
        let mut bindings: Vec<_> = file.keys.iter().collect();
        bindings.sort();
        for (name, keys) in bindings {
            let mut parsed = Vec::new();
            for k in keys {
                parsed
                    .push(Key::parse(k).ok_or_else(|| format!("keys.{name}: unknown key `{k}`"))?);
            }
            if let Some((a, ..)) = ACTIONS.iter().find(|(_, n, ..)| n == name) {
                self.keys.rebind(*a, &parsed);
            } else if let Some((a, ..)) = POPUP_ACTIONS.iter().find(|(_, n, ..)| n == name) {
                self.keys.popup.insert(*a, parsed.clone());
            } else {
                return Err(format!(
                    "keys: unknown action `{name}` (valid: {})",
                    action_names().join(", ")
                ));
            }
            for k in &parsed {
                if let Some(old) = self.keys.take_displaced(*k) {
                    self.warnings.push(format!(
                        "config: `{}` was {}, now {name}",
                        k.label(),
                        action_name(old)
                    ));
                }
            }
        }
        if let Some(m) = &file.view.mode {
            if m != "layer" && m != "aggregated" {
                return Err(format!("view.mode: `{m}` is not layer or aggregated"));
            }
        }
        if let Some(s) = &file.view.sort {
            if s != "name" && s != "size" {
                return Err(format!("view.sort: `{s}` is not name or size"));
            }
        }
        self.view = file.view;
        Ok(())
    }
}

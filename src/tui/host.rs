//! What both explorers do alike, over a [`Host`] (the explorer's or the
//! diff's state): the [`Msg`] they take and the [`update`] that applies
//! it; routing a key to the prompt, the open popup or an action; closing
//! popups; the pane focus; the layer list cursor; the tree table's actions
//! and prompts; clicks and the wheel on the panes; taking the loaded data.
//! Each mode handles what is its own (popups, layer changes, effects).

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton};
use crossterm::event::{MouseEvent, MouseEventKind};
use ratatui::layout::{Position, Rect};

use super::config::{Action, Config, Key};
use super::layout::{self, Areas};
use super::list::ListCursor;
use super::picker::{Picked, Picker};
use super::prompt::{open_prompt, prompt_key, Prompt, PromptKind};
use super::table::{Acted, RowSource, TableSort, TreeTable};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Layers,
    Tree,
}

/// What both modes' states hold alike: the config, the focus, the layer
/// list cursor, the prompt and message of the status line, the last
/// layout, and whether to quit (and why loading failed).
#[derive(Debug)]
pub struct Ui {
    pub config: Config,
    pub focus: Focus,
    /// The layer list (the explorer's selected layer is B in range mode).
    pub layers: ListCursor,
    pub prompt: Option<Prompt>,
    pub message: Option<String>,
    pub areas: Areas,
    /// The whole screen at the last resize (empty until the first).
    pub screen: Rect,
    /// Archives of several images waiting for the user's pick (the first
    /// is shown).
    pub pickers: Vec<Picker>,
    pub quit: bool,
    pub load_error: Option<crate::Error>,
}

impl Ui {
    pub fn new(config: Config, focus: Focus) -> Ui {
        // The config file's warnings (a key taken from another action)
        // greet the user on the status line.
        let message = (!config.warnings.is_empty()).then(|| config.warnings.join("; "));
        Ui {
            config,
            focus,
            layers: ListCursor::default(),
            prompt: None,
            message,
            areas: Areas::default(),
            screen: Rect::default(),
            pickers: Vec::new(),
            quit: false,
            load_error: None,
        }
    }
}

/// The parts of a mode's state the shared handling works on.
pub(crate) struct Parts<'a, So, C, S> {
    pub table: &'a mut TreeTable<So, C>,
    /// The table's rows, once loaded.
    pub src: Option<S>,
    pub ui: &'a mut Ui,
    /// Rows of the layer list.
    pub layer_count: usize,
    pub popup_open: bool,
}

/// A message to either explorer: terminal input and actions (routed by
/// the shared code), the loaded data `D` or why loading failed, what the
/// mode's workers send back (`R`), and ticks.
pub enum Msg<D, R> {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Action(Action),
    Loaded(Result<Arc<D>, crate::Error>),
    Reply(R),
}

/// A mode's state, as the shared handling sees it.
pub(crate) trait Host {
    /// What the loader delivers.
    type Data;
    /// What the mode's workers send back.
    type Reply;
    type Sort: TableSort;
    type Orders: Default;
    type Src<'a>: RowSource<Sort = Self::Sort, Orders = Self::Orders>
    where
        Self: 'a;
    fn parts(&mut self) -> Parts<'_, Self::Sort, Self::Orders, Self::Src<'_>>;
    /// Where the mode's panes go on a screen of `area`.
    fn layout(&self, area: Rect) -> Areas;
    /// Take the loaded data and build the table's rows for it.
    fn take_data(&mut self, d: Arc<Self::Data>);
    /// A worker's reply.
    fn reply(&mut self, r: Self::Reply);
    /// Select a row of the layer list.
    fn select_layer(&mut self, row: usize);
    /// Do an action that is the mode's own; a returned action is done next.
    fn own_action(&mut self, a: Action) -> Option<Action>;
    /// Why the mode never does `a` (None: it may).
    fn refuses(&self, _a: Action) -> Option<&'static str> {
        None
    }
    /// Stop loading (the user quit).
    fn cancel(&self);
    /// Look at a key before it is routed; true when the mode took it.
    fn take_key(&mut self, _k: &KeyEvent) -> bool {
        false
    }
    /// The action whose keys opened the open popup (they close it again).
    fn popup_opener(&self) -> Option<Action>;
    fn close_popup(&mut self);
    /// A key while a popup is open (with its action, if it has one) that
    /// does not close it; a returned action is done next.
    fn popup_key(&mut self, k: KeyEvent, act: Option<Action>) -> Option<Action>;
    /// Submit a prompt the shared code does not handle (extraction).
    fn submit_other(&mut self, _p: Prompt) {}
    /// A submitted search or filter shows nothing, or a path jumped to is
    /// not in this view (the status line says so already): the mode may
    /// say where it is instead.
    fn unseen(&mut self, _u: Unseen) {}
}

/// What a submitted prompt found nothing of in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unseen {
    /// The search query matched no row.
    Search,
    /// The filter regex left no row.
    Filter,
    /// The path (key) is outside the view.
    Path(u32),
}

/// Apply `msg`; a returned message is applied next (TEA chaining).
pub(crate) fn update<H: Host>(
    h: &mut H,
    msg: Msg<H::Data, H::Reply>,
) -> Option<Msg<H::Data, H::Reply>> {
    match msg {
        Msg::Key(k) => {
            if pick_key(h, &k) || h.take_key(&k) {
                return None;
            }
            key(h, k).map(Msg::Action)
        }
        Msg::Mouse(m) => {
            if let Shared::Layer(l) = mouse(h, m) {
                h.select_layer(l);
            }
            None
        }
        Msg::Resize(w, height) => {
            resize(h, Rect::new(0, 0, w, height));
            None
        }
        Msg::Action(a) => act(h, a).map(Msg::Action),
        Msg::Loaded(Ok(d)) => {
            loaded(h, d);
            relayout(h);
            None
        }
        Msg::Loaded(Err(e)) => {
            // Quitting in a picker makes its loader give up: not an error.
            let ui = h.parts().ui;
            if !ui.quit {
                ui.load_error = Some(e);
            }
            None
        }
        Msg::Reply(r) => {
            h.reply(r);
            None
        }
    }
}

/// A key while a picker is shown: it has every key but ctrl-c (which
/// quits as everywhere); true when it took the key.
fn pick_key<H: Host>(h: &mut H, k: &KeyEvent) -> bool {
    let ui = h.parts().ui;
    let Some(p) = ui.pickers.first_mut() else {
        return false;
    };
    if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
        return false;
    }
    match p.key(k, &ui.config.keys, ui.screen) {
        Picked::Open => {}
        Picked::Chosen => {
            ui.pickers.remove(0);
        }
        Picked::Quit => {
            // Dropping the pickers lets the waiting loaders end.
            ui.pickers.clear();
            ui.quit = true;
            h.cancel();
        }
    }
    true
}

/// Apply a message and everything it chains to.
pub(crate) fn apply<H: Host>(h: &mut H, msg: Msg<H::Data, H::Reply>) {
    let mut next = Some(msg);
    while let Some(m) = next {
        next = update(h, m);
    }
}

/// Take loaded data: the mode's rows, then the config's starting depth,
/// and the layer cursor on screen.
pub(crate) fn loaded<H: Host>(h: &mut H, d: Arc<H::Data>) {
    h.take_data(d);
    let p = h.parts();
    let depth = p.ui.config.view.collapse_depth;
    if depth > 0 {
        if let Some(src) = &p.src {
            p.table.collapse_from_depth(src, depth);
        }
    }
    p.ui.layers.ensure_visible(p.layer_count);
}

/// The filter or the sort changed: rebuild the table's rows (once loaded).
pub(crate) fn rebuild<H: Host>(h: &mut H) {
    let p = h.parts();
    if let Some(src) = &p.src {
        p.table.rebuild(src);
    }
}

/// Do an action: quitting, the shared ones, then the mode's own.
fn act<H: Host>(h: &mut H, a: Action) -> Option<Action> {
    if a == Action::Quit {
        h.parts().ui.quit = true;
        h.cancel();
        return None;
    }
    if let Some(why) = h.refuses(a) {
        let p = h.parts();
        if p.src.is_some() {
            p.ui.message = Some(why.into());
        }
        return None;
    }
    match action(h, a) {
        Shared::No => h.own_action(a),
        Shared::Done => None,
        Shared::Layer(l) => {
            h.select_layer(l);
            None
        }
        Shared::Details => Some(Action::Details),
    }
}

/// A key, routed: the action to do next, if any.
pub(crate) fn key<H: Host>(h: &mut H, k: KeyEvent) -> Option<Action> {
    match route_key(h, k) {
        KeyRoute::Done => None,
        KeyRoute::Quit => Some(Action::Quit),
        KeyRoute::Popup(act) => {
            // `q` and Esc close a popup, as in less and man (ctrl-c still
            // quits), and so do the keys that opened it.
            let opener = act.is_some() && act == h.popup_opener();
            if k.code == KeyCode::Esc || act == Some(Action::Quit) || opener {
                h.close_popup();
                return None;
            }
            h.popup_key(k, act)
        }
        KeyRoute::Action(act) => act,
    }
}

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
pub(crate) fn route_key<H: Host>(h: &mut H, k: KeyEvent) -> KeyRoute {
    if k.kind == KeyEventKind::Release {
        return KeyRoute::Done;
    }
    let ctrl_c = k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
    if ctrl_c {
        return KeyRoute::Quit;
    }
    if h.parts().ui.prompt.is_some() {
        prompt_key(h, k);
        return KeyRoute::Done;
    }
    let p = h.parts();
    p.ui.message = None;
    let key = Key::from_event(&k);
    let act = p.ui.config.keys.action(&key);
    if act == Some(Action::Quit) && !p.popup_open {
        return KeyRoute::Quit;
    }
    if layout::is_too_small(p.ui.screen) {
        return KeyRoute::Done;
    }
    if p.src.is_none() {
        p.ui.message = Some(format!(
            "{}: not while loading (q or ctrl-c quits)",
            key.label()
        ));
        return KeyRoute::Done;
    }
    if p.popup_open {
        return KeyRoute::Popup(act);
    }
    if act.is_none() && !is_modifier_only(&k) {
        p.ui.message = Some(format!(
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

/// What [`action`] and [`mouse`] leave to the mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    /// Not a shared action: the mode's own.
    No,
    Done,
    /// Select this row of the layer list.
    Layer(usize),
    /// Show the selected row's details.
    Details,
}

/// Do an action both modes share: focus, the layer cursor, the tree
/// table's actions and its prompts.
pub(crate) fn action<H: Host>(h: &mut H, a: Action) -> Shared {
    let p = h.parts();
    let Some(src) = p.src else {
        return Shared::No;
    };
    let layers_focused = p.ui.focus == Focus::Layers;
    match a {
        Action::FocusNext | Action::FocusPrev => {
            p.ui.focus = if layers_focused {
                Focus::Tree
            } else {
                Focus::Layers
            };
        }
        Action::Up
        | Action::Down
        | Action::PageUp
        | Action::PageDown
        | Action::Home
        | Action::End
            if layers_focused =>
        {
            return p
                .ui
                .layers
                .target(a, p.layer_count)
                .map_or(Shared::Done, Shared::Layer);
        }
        Action::Open if layers_focused => p.ui.focus = Focus::Tree,
        Action::Search => {
            // Vim-style: empty; Esc restores the previous query.
            p.ui.prompt = Some(Prompt {
                kind: PromptKind::Search,
                text: String::new(),
                before: p.table.search.query.clone(),
            });
        }
        // Empty, so typing an absolute path does not append to the
        // current one; Tab completes.
        Action::JumpPath => open_prompt(&mut p.ui.prompt, PromptKind::Jump, String::new()),
        Action::FilterRegex => open_prompt(
            &mut p.ui.prompt,
            PromptKind::Filter,
            p.table.filter.text.clone(),
        ),
        Action::FilterSize => open_prompt(
            &mut p.ui.prompt,
            PromptKind::Size,
            p.table.filter.size_text.clone(),
        ),
        _ => match p.table.act(&src, a) {
            Acted::No => return Shared::No,
            Acted::Done => {}
            Acted::Focus => p.ui.focus = Focus::Tree,
            Acted::Details => return Shared::Details,
            Acted::Message(m) => p.ui.message = Some(m),
        },
    }
    Shared::Done
}

/// Is the point inside `r`?
pub(crate) fn hit(r: Rect, x: u16, y: u16) -> bool {
    r.contains(Position::new(x, y))
}

/// The mouse: over a popup the wheel scrolls it; on the panes the wheel
/// scrolls the table or steps through layers, a click selects (and
/// toggles a directory).
pub(crate) fn mouse<H: Host>(h: &mut H, m: MouseEvent) -> Shared {
    if h.parts().popup_open {
        let act = match m.kind {
            MouseEventKind::ScrollDown => Action::Down,
            MouseEventKind::ScrollUp => Action::Up,
            _ => return Shared::Done,
        };
        let code = if act == Action::Down {
            KeyCode::Down
        } else {
            KeyCode::Up
        };
        h.popup_key(KeyEvent::from(code), Some(act));
        return Shared::Done;
    }
    let p = h.parts();
    let Some(src) = p.src else {
        return Shared::No;
    };
    let (x, y) = (m.column, m.row);
    let a = p.ui.areas;
    let in_layers = hit(a.layers, x, y) || hit(a.new_layers, x, y);
    match m.kind {
        MouseEventKind::ScrollDown | MouseEventKind::ScrollUp => {
            let d = if m.kind == MouseEventKind::ScrollDown {
                3
            } else {
                -3
            };
            if hit(a.tree, x, y) {
                p.table.scroll_by(d);
            } else if in_layers {
                if let Some(l) = p.ui.layers.step(d.signum(), p.layer_count) {
                    return Shared::Layer(l);
                }
            }
        }
        MouseEventKind::Down(MouseButton::Left) => {
            if hit(a.tree, x, y) {
                p.ui.focus = Focus::Tree;
                if let Some(r) = layout::table_row_at(p.table, a.tree, y) {
                    p.table.click(&src, r);
                }
            } else if in_layers {
                p.ui.focus = Focus::Layers;
                if let Some(l) = layout::list_row_at(&p.ui.layers, p.layer_count, a.layers, y) {
                    return Shared::Layer(l);
                }
            }
        }
        _ => {}
    }
    Shared::Done
}

/// Lay the screen out again for `area`: pane heights for paging, cursors
/// kept on screen.
pub(crate) fn resize<H: Host>(h: &mut H, area: Rect) {
    let areas = h.layout(area);
    let p = h.parts();
    p.ui.screen = area;
    p.ui.areas = areas;
    p.table.height = layout::table_body_height(areas.tree);
    p.ui.layers.height = layout::list_body_height(areas.layers);
    p.table.ensure_visible();
    p.ui.layers.ensure_visible(p.layer_count);
}

/// After loading, lay the screen out again: the layer count sizes the
/// layer panes.
pub(crate) fn relayout<H: Host>(h: &mut H) {
    let screen = h.parts().ui.screen;
    if screen.area() > 0 {
        resize(h, screen);
    }
}

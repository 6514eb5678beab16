//! The explorer's caches (the whole tree's name order, sorted child lists,
//! packed versions, remembered search and filter-regex answers) against
//! fresh computations: after every layer, mode, sort, filter and query
//! change, the rows and search matches equal those of a new explorer put
//! straight into the same state.

mod common;

use common::app::{app_from, ctrl, keys, press, App};

use crossterm::event::KeyCode;

use layerscope::tui::config::ThemeName;

use layerscope::tui::layer_view::{SortKey, ViewMode};
use layerscope::tui::state::AppState;

use layerscope_synth as synth;

fn sample() -> App {
    app_from(&synth::sample_image().docker_legacy(), ThemeName::None)
}

/// Open a prompt with `open`, replace its text with `text` and submit.
fn prompt(s: &mut AppState, open: char, text: &str) {
    press(s, KeyCode::Char(open));
    ctrl(s, 'u');
    keys(s, text);
    press(s, KeyCode::Enter);
}

/// The rows, indented by depth.
fn rows(s: &AppState) -> Vec<String> {
    let d = s.data.as_ref().expect("data");
    (0..s.tree.rows.len())
        .map(|r| {
            let e = s.tree.entry(r).expect("row");
            format!("{}{}", " ".repeat(e.depth as usize), d.path(e.key))
        })
        .collect()
}

fn matches(s: &AppState) -> Vec<String> {
    let d = s.data.as_ref().expect("data");
    s.tree
        .search
        .matches
        .iter()
        .map(|&id| d.path(id).to_string())
        .collect()
}

/// A new explorer showing what `s` shows, computed from nothing.
fn fresh(s: &AppState) -> App {
    let mut a = sample();
    let f = &mut a.s;
    f.ui.layers.selected = s.ui.layers.selected;
    f.mode = s.mode;
    f.base_mode = s.base_mode;
    f.tree.sort = s.tree.sort;
    f.tree.filter.set_regex(&s.tree.filter.text).expect("regex");
    f.tree.filter.statuses = s.tree.filter.statuses;
    f.tree.filter.only_wasted = s.tree.filter.only_wasted;
    f.tree.search.query = s.tree.search.query.clone();
    f.recompute_view();
    a
}

fn same_as_fresh(s: &AppState, after: &str) {
    let f = fresh(s);
    assert_eq!(rows(s), rows(&f.s), "rows after {after}");
    assert_eq!(matches(s), matches(&f.s), "matches after {after}");
}

/// Keys that change the layer, the mode, the sort and the range, in the
/// layers pane.
const CHANGES: &[char] = &[
    'k', 'k', 'v', 's', 'k', 'S', 'j', 'g', 'v', 'm', 'G', 'k', 'm', 's', 'G', 'S', 'v',
];

#[test]
fn search_matches_follow_layer_mode_and_sort_changes() {
    let mut a = sample();
    prompt(&mut a.s, '/', "bin");
    same_as_fresh(&a.s, "the search");
    for (i, &c) in CHANGES.iter().enumerate() {
        keys(&mut a.s, &c.to_string());
        same_as_fresh(&a.s, &format!("key {i} `{c}`"));
    }
    // Layer 1 (apt) alone, by name: the matches in display order.
    let s = &mut a.s;
    s.ui.layers.selected = 1;
    s.mode = ViewMode::Layer;
    s.tree.sort.key = SortKey::Name;
    s.tree.sort.descending = false;
    s.recompute_view();
    assert_eq!(
        matches(s),
        [
            "/usr/bin",
            "/usr/bin/curl",
            "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4"
        ]
    );
    // Another query: nothing remembered of the first one is used.
    prompt(s, '/', "lib");
    assert!(!matches(s).is_empty());
    assert!(
        matches(s).iter().all(|p| p.contains("lib")),
        "{:?}",
        matches(s)
    );
    same_as_fresh(s, "a new query");
    // Smart case: a capital matches case exactly, lower case any case.
    prompt(s, '/', "LIBCURL");
    assert!(matches(s).is_empty(), "{:?}", matches(s));
    prompt(s, '/', "libcurl");
    assert_eq!(
        matches(s),
        [
            "/usr/lib/x86_64-linux-gnu/libcurl.so.4",
            "/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0"
        ]
    );
}

#[test]
fn filter_regex_follows_layer_mode_and_sort_changes() {
    let mut a = sample();
    prompt(&mut a.s, 'f', "lib");
    same_as_fresh(&a.s, "the filter");
    for (i, &c) in CHANGES.iter().enumerate() {
        keys(&mut a.s, &c.to_string());
        same_as_fresh(&a.s, &format!("key {i} `{c}`"));
    }
    // Another pattern: no answer of the first one is kept.
    let s = &mut a.s;
    s.ui.layers.selected = 0;
    s.mode = ViewMode::Aggregated;
    s.tree.sort.key = SortKey::Name;
    s.tree.sort.descending = false;
    s.recompute_view();
    prompt(s, 'f', "passwd|group");
    assert_eq!(rows(s), ["/etc", " /etc/group", " /etc/passwd"]);
    same_as_fresh(s, "a new pattern");
    // Upper case: matched against the paths as they are.
    prompt(s, 'f', "Passwd");
    assert!(rows(s).is_empty(), "{:?}", rows(s));
    prompt(s, 'f', "passwd");
    assert_eq!(rows(s), ["/etc", " /etc/passwd"]);
    // With a status filter too, across layers.
    keys(s, "1");
    for c in ['k', 'j', 'G', 'v'] {
        keys(s, &c.to_string());
        same_as_fresh(s, &format!("`{c}` with a status filter"));
    }
}

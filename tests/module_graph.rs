//! The library's top-level modules import each other without a cycle:
//! plain image data and leaves (`error`, `glob`, `text`, `image`) at the
//! bottom, the front ends (`tui`) at the top. Read from the sources, so a
//! new `use crate::…` that closes a loop fails here with the loop named.
// See: issue 11 "Cycles".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files of the library under `src/` (the binary's `main.rs` and `cli` excluded).
fn library_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "cli") {
                library_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`src/tree/replay.rs` → `tree`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main" | "cli")).then(|| name.to_string())
}

/// Top-level modules named after `crate::` (and `super::` in a file
/// directly below the crate root), comments left out.
fn imports(text: &str, top_level_file: bool, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        let mut prefixes = vec!["crate::"];
        if top_level_file {
            prefixes.push("super::");
        }
        for prefix in prefixes {
            for (i, _) in code.match_indices(prefix) {
                let before = code[..i].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue; // `$crate::` or part of a longer name
                }
                let rest = &code[i + prefix.len()..];
                // `crate::{a, b::c}` names several.
                let names: Vec<&str> = match rest.strip_prefix('{') {
                    Some(group) => group
                        .split(',')
                        .map(|s| s.trim().split("::").next().unwrap_or(""))
                        .collect(),
                    None => vec![rest],
                };
                for n in names {
                    let ident: String = n
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if modules.contains(&ident) {
                        found.insert(ident);
                    }
                }
            }
        }
    }
    found
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    library_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(&src, f)).collect();
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in &files {
        let Some(m) = module_of(&src, f) else {
            continue;
        };
        let rel = f.strip_prefix(&src).expect("under src");
        // `super::` is the crate root in `src/x.rs` and `src/x/mod.rs`.
        let depth = rel.components().count();
        let super_is_root =
            depth == 1 || (depth == 2 && rel.file_name().is_some_and(|n| n == "mod.rs"));
        let text = std::fs::read_to_string(f).expect("read source");
        let deps = g.entry(m.clone()).or_default();
        for d in imports(&text, super_is_root, &modules) {
            if d != m {
                deps.insert(d);
            }
        }
    }
    g
}

/// A cycle through the graph, if any (depth-first search with colours).
fn find_cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        path.push(n.to_string());
        for d in g.get(n).into_iter().flatten() {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == d).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(d.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(d, g, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in g.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, g, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

#[test]
fn the_library_module_graph_has_no_cycle() {
    let g = graph();
    assert!(g.len() > 10, "modules found: {:?}", g.keys());
    if let Some(c) = find_cycle(&g) {
        panic!("module import cycle: {}", c.join(" -> "));
    }
}

#[test]
fn the_leaves_import_only_leaves() {
    let g = graph();
    for leaf in ["glob", "text", "error"] {
        let deps: Vec<&String> = g
            .get(leaf)
            .into_iter()
            .flatten()
            .filter(|d| !matches!(d.as_str(), "error" | "text"))
            .collect();
        assert!(deps.is_empty(), "{leaf} imports {deps:?}");
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let mut g = BTreeMap::new();
    g.insert("a".to_string(), set(&["b"]));
    g.insert("b".to_string(), set(&["c"]));
    g.insert("c".to_string(), set(&["a"]));
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let modules = set(&["archive", "image", "report"]);
    assert_eq!(
        imports(
            "use crate::{archive::Layout, report};\n// crate::image\nx::crate::y",
            false,
            &modules
        ),
        set(&["archive", "report"])
    );
}

//! What a tree table shows and finds: the path, status, size and waste
//! [`Filter`], the incremental [`Search`], and the [`KeyMemo`] both use to
//! ask each path's question once per pattern.

use regex::Regex;

use crate::size::Comparison;

use super::rows::VisibleRows;
use super::RowSource;
use crate::tree::{NodeId, Status};

/// Path, status, size and waste filters. Judged per node; directories are
/// kept when a descendant passes. The size filter judges files only (a
/// directory's subtree total would let `>50M` show directories and no
/// file): directories appear only as the path to a match.
#[derive(Debug, Clone)]
pub struct Filter {
    pub text: String,
    pub regex: Option<Regex>,
    /// Match against lower-cased paths (pattern had no upper case).
    pub fold_case: bool,
    /// Shown statuses, in [`Status::ALL`] order; "unchanged" also covers
    /// untouched paths.
    pub statuses: [bool; 5],
    pub size_text: String,
    pub size: Option<Comparison>,
    pub only_wasted: bool,
}

impl Default for Filter {
    fn default() -> Self {
        Filter {
            text: String::new(),
            regex: None,
            fold_case: true,
            statuses: [true; 5],
            size_text: String::new(),
            size: None,
            only_wasted: false,
        }
    }
}

impl Filter {
    pub fn is_active(&self) -> bool {
        self.regex.is_some()
            || self.statuses.iter().any(|s| !s)
            || self.size.is_some()
            || self.only_wasted
    }

    /// Compile `text` as a smart-case regex (case-insensitive unless it has
    /// an upper-case letter, as ripgrep's `--smart-case`).
    pub fn set_regex(&mut self, text: &str) -> Result<(), String> {
        if text.is_empty() {
            self.text.clear();
            self.regex = None;
            return Ok(());
        }
        let fold = !has_upper(text);
        let re = Regex::new(text).map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid regex")
                .trim()
                .to_string()
        })?;
        self.text = text.to_string();
        self.regex = Some(re);
        self.fold_case = fold;
        Ok(())
    }

    /// Parse a size filter (`>10M`, `<=4KiB`: [`crate::size::parse_filter`]);
    /// empty clears it. An invalid one changes nothing (the header and the
    /// rows keep showing the filter in force).
    pub fn set_size(&mut self, text: &str) -> Result<(), String> {
        let t = text.trim();
        let size = if t.is_empty() {
            None
        } else {
            Some(crate::size::parse_filter(t).map_err(|e| e.to_string())?)
        };
        self.size = size;
        self.size_text = t.to_string();
        Ok(())
    }

    /// Does a node of `size` bytes pass the size filter? Directories never
    /// pass on their own (only as the path to a passing file).
    pub fn size_ok(&self, size: u64, is_dir: bool) -> bool {
        self.size.is_none_or(|f| !is_dir && f.matches(size))
    }

    fn status_ok(&self, s: Option<Status>) -> bool {
        let i = match s {
            Some(s) => Status::ALL.iter().position(|x| *x == s).unwrap_or(4),
            None => 4,
        };
        self.statuses[i]
    }

    /// Which keys stay: in the view and passing, or ancestors of such
    /// (None: no filter is set). `memo` remembers which paths the regex
    /// matched (they do not change with the view or the sort).
    pub fn keep<S: RowSource + ?Sized>(&self, src: &S, memo: &mut KeyMemo) -> Option<Vec<bool>> {
        if !self.is_active() && !src.own_filter() {
            return None;
        }
        let n = src.keys();
        let mut regex = self.regex.as_ref().map(|re| {
            let fold = if self.fold_case { "i" } else { "s" };
            let pattern = format!("{fold}{}", re.as_str());
            // A pattern without regex syntax is a substring: typed one
            // character further, only the shorter one's matches can match.
            let memo = if regex::escape(re.as_str()) == re.as_str() {
                memo.narrowed(&pattern, n)
            } else {
                memo.with(&pattern, n)
            };
            (re, memo)
        });
        let own = src.own_filter();
        let mut keep = vec![false; n];
        for key in 1..n as u32 {
            if !src.in_view(key) {
                continue;
            }
            let mut ok = self.status_ok(src.status(key));
            if ok && self.size.is_some() {
                ok = self.size_ok(src.size(key), src.is_dir(key));
            }
            ok = ok && (!self.only_wasted || src.wasted(key));
            if ok {
                if let Some((re, memo)) = regex.as_mut() {
                    ok = memo.get(key, || {
                        re.is_match(if self.fold_case {
                            src.lower(key)
                        } else {
                            src.path(key)
                        })
                    });
                }
            }
            keep[key as usize] = ok && (!own || src.passes_own_filter(key));
        }
        for key in (1..n as u32).rev() {
            if keep[key as usize] {
                if let Some(p) = src.parent_of(key) {
                    keep[p as usize] = true;
                }
            }
        }
        if let Some(root) = keep.first_mut() {
            *root = true;
        }
        Some(keep)
    }
}

/// Smart case: does the query hold a capital (then it matches case)?
pub fn has_upper(text: &str) -> bool {
    text.chars().any(char::is_uppercase)
}

/// Memo of a yes/no question about each key (a node id or an entry index)
/// under one pattern, e.g. "does its path contain the query": the paths
/// never change, so each key is asked at most once per pattern however
/// often the order, layer or sort changes. Keyed by the pattern and the
/// number of keys; [`KeyMemo::clear`] it when the data is replaced.
#[derive(Debug, Clone, Default)]
pub struct KeyMemo {
    pattern: String,
    /// Per key: 0 not asked yet, 1 no, 2 yes.
    answers: Vec<u8>,
}

impl KeyMemo {
    /// Forget every answer (new data).
    pub fn clear(&mut self) {
        self.pattern.clear();
        self.answers = Vec::new();
    }

    /// Start answering for `pattern` over `keys` keys; answers for another
    /// pattern or key count are dropped.
    pub fn with(&mut self, pattern: &str, keys: usize) -> &mut Self {
        if self.pattern != pattern || self.answers.len() != keys {
            self.pattern.clear();
            self.pattern.push_str(pattern);
            self.answers.clear();
            self.answers.resize(keys, 0);
        }
        self
    }

    /// [`KeyMemo::with`] for a substring query: when `pattern` extends the
    /// remembered one (a search typed a character further), a key whose
    /// path lacked the shorter query lacks this one too, so its "no" is
    /// kept and only the former "yes" keys are asked again. The search
    /// typed live thus asks each character only of the last one's matches.
    pub fn narrowed(&mut self, pattern: &str, keys: usize) -> &mut Self {
        if self.pattern != pattern
            && self.answers.len() == keys
            && !self.pattern.is_empty()
            && pattern.starts_with(self.pattern.as_str())
        {
            self.pattern.clear();
            self.pattern.push_str(pattern);
            // Branch-free, so it compiles to a vector loop.
            for a in &mut self.answers {
                *a = if *a == 2 { 0 } else { *a };
            }
            return self;
        }
        self.with(pattern, keys)
    }

    /// The answer for `key`, asking `ask` the first time.
    pub fn get(&mut self, key: u32, ask: impl FnOnce() -> bool) -> bool {
        let a = &mut self.answers[key as usize];
        if *a == 0 {
            *a = if ask() { 2 } else { 1 };
        }
        *a == 2
    }
}

/// Incremental path search over the current order.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub query: String,
    /// Matching nodes, in display order.
    pub matches: Vec<NodeId>,
    /// Index in `matches` of the current one.
    pub current: Option<usize>,
    /// Which keys' paths contain the (lower-cased) query.
    hits: KeyMemo,
}

impl Search {
    /// The current match's key.
    pub fn current_key(&self) -> Option<u32> {
        self.current.and_then(|i| self.matches.get(i)).copied()
    }

    /// Forget the remembered matches (new data).
    pub fn forget(&mut self) {
        self.hits.clear();
    }

    /// Recompute the matches of the query among the entries of `rows`'
    /// order (by their lower-cased paths); the current match
    /// is the first at or after order position `here`, if given. Which
    /// paths match is remembered per query, so a new order (layer, sort,
    /// filter) costs one pass over it.
    pub fn refresh<S: RowSource + ?Sized>(
        &mut self,
        rows: &VisibleRows,
        src: &S,
        here: Option<usize>,
    ) {
        self.matches.clear();
        self.current = None;
        if self.query.is_empty() {
            return;
        }
        // Smart case, as ripgrep: a query with a capital matches case.
        let exact = has_upper(&self.query);
        let q = if exact {
            self.query.clone()
        } else {
            self.query.to_lowercase()
        };
        let memo_key = format!("{}{q}", if exact { 's' } else { 'i' });
        let hits = self.hits.narrowed(&memo_key, src.keys());
        self.matches
            .extend(rows.order.iter().map(|e| e.key).filter(|&k| {
                hits.get(k, || {
                    let hay = if exact { src.path(k) } else { src.lower(k) };
                    hay.contains(q.as_str())
                })
            }));
        if let Some(here) = here {
            let i = self
                .matches
                .partition_point(|&m| rows.order_index(m).unwrap_or(0) < here);
            if !self.matches.is_empty() {
                self.current = Some(i.min(self.matches.len() - 1));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::super::{Entry, Parents, RowSource, TableSort};
    use super::{Filter, KeyMemo};
    use crate::tree::Status;

    /// Flat top-level paths (key 0 the root) counting how often a path
    /// is read.
    struct Flat {
        paths: Vec<&'static str>,
        reads: Cell<usize>,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    struct NoSort;

    impl TableSort for NoSort {
        fn next_key(self) -> Self {
            self
        }
        fn reversed(self) -> Self {
            self
        }
        fn label(self) -> String {
            String::new()
        }
    }

    impl Parents for Flat {
        fn parent_of(&self, _key: u32) -> Option<u32> {
            None
        }
    }

    impl RowSource for Flat {
        type Sort = NoSort;
        type Orders = ();
        fn keys(&self) -> usize {
            self.paths.len()
        }
        fn in_view(&self, _key: u32) -> bool {
            true
        }
        fn status(&self, _key: u32) -> Option<Status> {
            Some(Status::Added)
        }
        fn size(&self, _key: u32) -> u64 {
            0
        }
        fn is_dir(&self, _key: u32) -> bool {
            false
        }
        fn path(&self, key: u32) -> &str {
            self.reads.set(self.reads.get() + 1);
            self.paths[key as usize]
        }
        fn lower(&self, key: u32) -> &str {
            self.path(key)
        }
        fn find(&self, _path: &str) -> Option<u32> {
            None
        }
        fn order<'a>(&'a self, _: &'a mut (), _: NoSort) -> (&'a [Entry], Option<&'a [bool]>) {
            (&[], None)
        }
    }

    /// The keys a filter keeps (the root excluded) and the paths it read.
    fn kept(f: &mut Filter, src: &Flat, memo: &mut KeyMemo, text: &str) -> (Vec<u32>, usize) {
        f.set_regex(text).expect("valid regex");
        src.reads.set(0);
        let keep = f.keep(src, memo).expect("a filter is set");
        let keys = (1..keep.len() as u32)
            .filter(|&k| keep[k as usize])
            .collect();
        (keys, src.reads.get())
    }

    #[test]
    fn a_literal_filter_typed_further_reads_only_the_last_matches() {
        let src = Flat {
            paths: vec!["/", "/pkg1/a", "/pkg1/b", "/pkg2/a", "/other"],
            reads: Cell::new(0),
        };
        let (mut f, mut memo) = (Filter::default(), KeyMemo::default());
        assert_eq!(kept(&mut f, &src, &mut memo, "pkg"), (vec![1, 2, 3], 4));
        assert_eq!(kept(&mut f, &src, &mut memo, "pkg1"), (vec![1, 2], 3));
        assert_eq!(kept(&mut f, &src, &mut memo, "pkg1/b"), (vec![2], 2));
        // Regex syntax is no substring: `pkg1/b|` matches everything.
        assert_eq!(
            kept(&mut f, &src, &mut memo, "pkg1/b|"),
            (vec![1, 2, 3, 4], 4)
        );
        // Backspace is not an extension: all read again.
        assert_eq!(kept(&mut f, &src, &mut memo, "pkg"), (vec![1, 2, 3], 4));
        // A capital switches to matching case: a new question.
        assert_eq!(kept(&mut f, &src, &mut memo, "pkgA"), (vec![], 4));
    }

    #[test]
    fn narrowed_memo_keeps_the_shorter_querys_misses_only() {
        let paths = ["/a/file1", "/a/file2", "/b/other", "/b/fil"];
        let mut memo = KeyMemo::default();
        let mut asked = 0;
        let hits = |memo: &mut KeyMemo, q: &str, asked: &mut usize| -> Vec<bool> {
            let m = memo.narrowed(&format!("i{q}"), paths.len());
            (0..paths.len() as u32)
                .map(|k| {
                    m.get(k, || {
                        *asked += 1;
                        paths[k as usize].contains(q)
                    })
                })
                .collect()
        };
        assert_eq!(
            hits(&mut memo, "fil", &mut asked),
            [true, true, false, true]
        );
        assert_eq!(asked, 4);
        // One character further: only the three former matches are asked.
        assert_eq!(
            hits(&mut memo, "file", &mut asked),
            [true, true, false, false]
        );
        assert_eq!(asked, 7);
        assert_eq!(
            hits(&mut memo, "file2", &mut asked),
            [false, true, false, false]
        );
        assert_eq!(asked, 9);
        // A shorter query (backspace) is not an extension: all asked again.
        assert_eq!(
            hits(&mut memo, "file", &mut asked),
            [true, true, false, false]
        );
        assert_eq!(asked, 13);
    }
}

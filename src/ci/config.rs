//! Resolving the CI thresholds: dive's defaults, then the rules file (the
//! given one or `.dive-ci`), then the overrides given on the command line.
//! The rules file is read in bounded time and memory (size, nesting, glob
//! count and length), and its numbers are taken exactly or refused.

use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::glob::globs;

/// Rule thresholds given on the command line (override the file); the
/// binary fills it from its flags.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub lowest_efficiency: Option<String>,
    pub highest_wasted_bytes: Option<String>,
    pub highest_user_wasted_percent: Option<String>,
    pub max_image_size: Option<String>,
    pub max_layer_size: Option<String>,
    pub max_layers: Option<String>,
    pub forbidden_paths: Vec<String>,
    pub ignored_paths: Vec<String>,
    pub highest_size_growth: Option<String>,
    pub highest_size_growth_percent: Option<String>,
    pub highest_added_layers: Option<String>,
    pub highest_new_wasted_bytes: Option<String>,
}

/// A YAML scalar that may be a number or a string ("20MB", "disabled").
/// Integers stay integers: read as floats, 2^53+1 would round silently.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Str(String),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Unsigned(n) => n.to_string(),
            Scalar::Signed(n) => n.to_string(),
            Scalar::Float(n) => n.to_string(),
            Scalar::Str(s) => s,
        }
    }
}

/// A rules file larger than this is refused (real ones are a few hundred bytes).
pub const MAX_RULES_FILE_BYTES: u64 = 1 << 20;
/// Deepest nesting in a rules file (the format itself needs three levels).
pub const MAX_RULES_DEPTH: usize = 32;
/// Most globs in `forbiddenPaths` and in `ignoredPaths`, file and flags together.
pub const MAX_GLOBS: usize = 1_000;
/// Longest glob, in bytes.
pub const MAX_GLOB_BYTES: usize = 1_024;

/// The keys a rules file may hold under `rules:`.
const KNOWN_KEYS: [&str; 12] = [
    "lowestEfficiency",
    "highestWastedBytes",
    "highestUserWastedPercent",
    "highestImageSize",
    "highestLayerSize",
    "highestLayerCount",
    "forbiddenPaths",
    "ignoredPaths",
    "highestSizeGrowth",
    "highestSizeGrowthPercent",
    "highestAddedLayers",
    "highestNewWastedBytes",
];

/// A list of globs whose count and lengths are checked while it is read:
/// a long string aliased a thousand times is refused before it is copied
/// once (the YAML reader hands each alias over as a borrowed `&str`).
#[derive(Debug, Default)]
struct Globs(Vec<String>);

impl<'de> Deserialize<'de> for Globs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct List;
        impl<'de> serde::de::Visitor<'de> for List {
            type Value = Globs;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of globs")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Globs, A::Error> {
                let mut v = Vec::new();
                while let Some(BoundedGlob(g)) = seq.next_element()? {
                    if v.len() >= MAX_GLOBS {
                        return Err(serde::de::Error::custom(format!(
                            "more than {MAX_GLOBS} globs"
                        )));
                    }
                    v.push(g);
                }
                Ok(Globs(v))
            }
        }
        d.deserialize_seq(List)
    }
}

struct BoundedGlob(String);

impl<'de> Deserialize<'de> for BoundedGlob {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct One;
        impl serde::de::Visitor<'_> for One {
            type Value = BoundedGlob;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a glob")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<BoundedGlob, E> {
                if s.len() > MAX_GLOB_BYTES {
                    return Err(E::custom(format!(
                        "a glob of {} bytes, more than {MAX_GLOB_BYTES}",
                        s.len()
                    )));
                }
                Ok(BoundedGlob(s.to_string()))
            }
        }
        d.deserialize_str(One)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileRules {
    lowest_efficiency: Option<Scalar>,
    highest_wasted_bytes: Option<Scalar>,
    highest_user_wasted_percent: Option<Scalar>,
    highest_image_size: Option<Scalar>,
    highest_layer_size: Option<Scalar>,
    highest_layer_count: Option<Scalar>,
    #[serde(default)]
    forbidden_paths: Globs,
    #[serde(default)]
    ignored_paths: Globs,
    highest_size_growth: Option<Scalar>,
    highest_size_growth_percent: Option<Scalar>,
    highest_added_layers: Option<Scalar>,
    highest_new_wasted_bytes: Option<Scalar>,
}

#[derive(Debug, Default, Deserialize)]
struct CiFile {
    #[serde(default)]
    rules: FileRules,
}

/// A threshold: absent rules are disabled.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold<T> {
    Disabled,
    At(T),
}

/// Resolved rule configuration.
#[derive(Debug, Clone)]
pub struct RuleSet {
    pub lowest_efficiency: Threshold<f64>,
    pub highest_wasted_bytes: Threshold<u64>,
    pub highest_user_wasted_percent: Threshold<f64>,
    pub highest_image_size: Threshold<u64>,
    pub highest_layer_size: Threshold<u64>,
    pub highest_layer_count: Threshold<u64>,
    pub forbidden: Vec<String>,
    pub ignored: Vec<String>,
    /// Baseline rules (need `--baseline`).
    pub highest_size_growth: Threshold<u64>,
    pub highest_size_growth_percent: Threshold<f64>,
    pub highest_added_layers: Threshold<u64>,
    pub highest_new_wasted_bytes: Threshold<u64>,
    /// Where the file rules came from, if any.
    pub source: Option<String>,
    /// Problems in the rules file that are not errors (unknown keys).
    pub warnings: Vec<String>,
}

fn is_disabled(s: &str) -> bool {
    s.trim().eq_ignore_ascii_case("disabled") || s.trim().is_empty()
}

fn ratio(key: &str, v: Option<String>, default: Threshold<f64>) -> Result<Threshold<f64>> {
    match v {
        None => Ok(default),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => {
            let x = s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::Usage(format!("CI rule {key}: invalid ratio {s:?}")))?;
            exact_ratio(key, &s, x).map(Threshold::At)
        }
    }
}

/// A ratio must not be negative, and an integer must not have been rounded
/// on its way to a float (2^53+1 reads as 2^53).
fn exact_ratio(key: &str, s: &str, x: f64) -> Result<f64> {
    if x < 0.0 {
        return Err(Error::Usage(format!(
            "CI rule {key}: negative ratio {:?}",
            s.trim()
        )));
    }
    if let Ok(n) = s.trim().parse::<i128>() {
        if x as i128 != n {
            return Err(Error::Usage(format!(
                "CI rule {key}: {n} cannot be represented exactly as a ratio"
            )));
        }
    }
    Ok(x)
}

/// Parse a size as go-humanize does: `20MB` = 20,000,000, `20MiB` = 20 × 2²⁰
/// (the one rule of [`crate::size`], shared with the explorer's filter).
pub fn parse_size(s: &str) -> Option<u64> {
    crate::size::parse_size(s).ok()
}

/// A ratio written as `0.1` or `10%`; disabled when absent.
fn ratio_or_percent(key: &str, v: Option<String>) -> Result<Threshold<f64>> {
    match v {
        Some(s) if !is_disabled(&s) => {
            let t = s.trim();
            let (number, scale) = match t.strip_suffix('%') {
                Some(p) => (p.trim(), 100.0),
                None => (t, 1.0),
            };
            let x = number
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Error::Usage(format!("CI rule {key}: invalid ratio {s:?}")))?;
            Ok(Threshold::At(exact_ratio(key, number, x)? / scale))
        }
        _ => Ok(Threshold::Disabled),
    }
}

fn count(key: &str, v: Option<String>) -> Result<Threshold<u64>> {
    match v {
        None => Ok(Threshold::Disabled),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => s
            .trim()
            .parse::<u64>()
            .map(Threshold::At)
            .map_err(|_| Error::Usage(format!("CI rule {key}: invalid count {s:?}"))),
    }
}

fn size(key: &str, v: Option<String>) -> Result<Threshold<u64>> {
    match v {
        None => Ok(Threshold::Disabled),
        Some(s) if is_disabled(&s) => Ok(Threshold::Disabled),
        Some(s) => {
            let t = s.trim();
            if t.starts_with('-') {
                return Err(Error::Usage(format!("CI rule {key}: negative size {t:?}")));
            }
            // A bare number is bytes: a fraction of a byte would be rounded.
            if let Ok(x) = t.parse::<f64>() {
                if t.parse::<u64>().is_err() && x.fract() != 0.0 {
                    return Err(Error::Usage(format!(
                        "CI rule {key}: {t} is not a whole number of bytes"
                    )));
                }
            }
            crate::size::parse_size(&s).map(Threshold::At).map_err(|_| {
                Error::Usage(format!(
                    "CI rule {key}: invalid size {s:?}: expected {}",
                    crate::size::SIZE_GRAMMAR
                ))
            })
        }
    }
}

impl RuleSet {
    /// Merge, in rising precedence: dive's defaults, the rules file (the
    /// given one, else `.dive-ci` in the working directory), the flags.
    pub fn resolve(file: Option<&Path>, args: &Overrides) -> Result<RuleSet> {
        let (parsed, source, warnings) = match file {
            Some(p) => {
                let (f, w) = read_file(p)?;
                (Some(f), Some(p.display().to_string()), w)
            }
            None => {
                let p = Path::new(".dive-ci");
                if p.is_file() {
                    let (f, w) = read_file(p)?;
                    (Some(f), Some(".dive-ci".to_string()), w)
                } else {
                    (None, None, Vec::new())
                }
            }
        };
        let f = parsed.unwrap_or_default();
        let pick = |flag: &Option<String>, file: Option<Scalar>| {
            flag.clone().or_else(|| file.map(Scalar::into_string))
        };
        let mut forbidden = f.forbidden_paths.0;
        forbidden.extend(args.forbidden_paths.iter().cloned());
        let mut ignored = f.ignored_paths.0;
        ignored.extend(args.ignored_paths.iter().cloned());
        for (key, list) in [("forbiddenPaths", &forbidden), ("ignoredPaths", &ignored)] {
            if list.len() > MAX_GLOBS {
                return Err(Error::Usage(format!(
                    "CI rule {key}: more than {MAX_GLOBS} globs"
                )));
            }
            if let Some(g) = list.iter().find(|g| g.len() > MAX_GLOB_BYTES) {
                return Err(Error::Usage(format!(
                    "CI rule {key}: a glob of {} bytes, more than {MAX_GLOB_BYTES}",
                    g.len()
                )));
            }
        }
        let rules = RuleSet {
            lowest_efficiency: ratio(
                "lowestEfficiency",
                pick(&args.lowest_efficiency, f.lowest_efficiency),
                Threshold::At(0.9),
            )?,
            highest_wasted_bytes: size(
                "highestWastedBytes",
                pick(&args.highest_wasted_bytes, f.highest_wasted_bytes),
            )?,
            highest_user_wasted_percent: ratio(
                "highestUserWastedPercent",
                pick(
                    &args.highest_user_wasted_percent,
                    f.highest_user_wasted_percent,
                ),
                Threshold::At(0.1),
            )?,
            highest_image_size: size(
                "highestImageSize",
                pick(&args.max_image_size, f.highest_image_size),
            )?,
            highest_layer_size: size(
                "highestLayerSize",
                pick(&args.max_layer_size, f.highest_layer_size),
            )?,
            highest_layer_count: match pick(&args.max_layers, f.highest_layer_count) {
                None => Threshold::Disabled,
                Some(s) if is_disabled(&s) => Threshold::Disabled,
                Some(s) => s.trim().parse::<u64>().map(Threshold::At).map_err(|_| {
                    Error::Usage(format!("CI rule highestLayerCount: invalid count {s:?}"))
                })?,
            },
            forbidden,
            ignored,
            highest_size_growth: size(
                "highestSizeGrowth",
                pick(&args.highest_size_growth, f.highest_size_growth),
            )?,
            highest_size_growth_percent: ratio_or_percent(
                "highestSizeGrowthPercent",
                pick(
                    &args.highest_size_growth_percent,
                    f.highest_size_growth_percent,
                ),
            )?,
            highest_added_layers: count(
                "highestAddedLayers",
                pick(&args.highest_added_layers, f.highest_added_layers),
            )?,
            highest_new_wasted_bytes: size(
                "highestNewWastedBytes",
                pick(&args.highest_new_wasted_bytes, f.highest_new_wasted_bytes),
            )?,
            source,
            warnings,
        };
        for (key, list) in [
            ("forbiddenPaths", &rules.forbidden),
            ("ignoredPaths", &rules.ignored),
        ] {
            globs(list).map_err(|e| match e {
                Error::Usage(m) => Error::Usage(format!("CI rule {key}: {m}")),
                other => other,
            })?;
        }
        Ok(rules)
    }
}

/// Read a rules file, in bounded time and memory: its size, nesting, glob
/// count and glob lengths are limited, aliases are never copied. Returns
/// the rules and a warning per unknown key.
fn read_file(p: &Path) -> Result<(FileRules, Vec<String>)> {
    use std::io::Read;
    let shown = p.display();
    let io = |e: std::io::Error| Error::Usage(format!("{shown}: {e}"));
    let file = std::fs::File::open(p).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_RULES_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_RULES_FILE_BYTES {
        return Err(Error::Usage(format!(
            "{shown}: the CI rules file is larger than {MAX_RULES_FILE_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::Usage(format!("{shown}: invalid CI rules: not UTF-8: {e}")))?;
    if text.trim().is_empty() {
        return Ok((FileRules::default(), Vec::new()));
    }
    if let Some(line) = too_deep(&text, MAX_RULES_DEPTH) {
        return Err(Error::Usage(format!(
            "{shown}: invalid CI rules: nested deeper than {MAX_RULES_DEPTH} levels at line {line}"
        )));
    }
    let mut unknown = Vec::new();
    let f: CiFile =
        serde_ignored::deserialize(serde_yaml_ng::Deserializer::from_str(&text), |path| {
            unknown.push(path.to_string())
        })
        .map_err(|e| Error::Usage(format!("{shown}: invalid CI rules: {e}")))?;
    let warnings = unknown
        .iter()
        .map(|path| {
            let key = path.rsplit('.').next().unwrap_or(path);
            let top = !path.contains('.');
            let known: &[&str] = if top { &["rules"] } else { &KNOWN_KEYS };
            let near = known
                .iter()
                .map(|k| {
                    (
                        strsim::levenshtein(&key.to_lowercase(), &k.to_lowercase()),
                        *k,
                    )
                })
                .min()
                .filter(|(d, k)| *d <= (k.len() / 3).max(2));
            match near {
                Some((_, k)) => format!(
                    "{shown}: unknown key {path:?} is ignored; did you mean {:?}?",
                    if top {
                        k.to_string()
                    } else {
                        format!("rules.{k}")
                    }
                ),
                None => format!("{shown}: unknown key {path:?} is ignored"),
            }
        })
        .collect();
    Ok((f.rules, warnings))
}

/// The first line at which `text` nests deeper than `max` levels (block
/// indentation, `- - -` on one line, and `[`/`{` flow collections), found
/// with a plain scan before any YAML parser sees the text: a parser would
/// first build every level of a file nested 100,000 deep.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let body = line.trim_start_matches(' ');
        let mut block = indents.len();
        if flow == 0 {
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let indent = line.len() - body.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
            let mut rest = body;
            let mut dashes = 0;
            while let Some(r) = rest
                .strip_prefix('-')
                .filter(|r| r.is_empty() || r.starts_with(' '))
            {
                dashes += 1;
                rest = r.trim_start_matches(' ');
            }
            block = indents.len() + dashes;
        }
        if block > max {
            return Some(n + 1);
        }
        // Flow brackets count where a value starts or inside a flow
        // collection; quoted text and comments are skipped.
        let mut prev: Option<char> = None;
        let mut raw_prev: Option<char> = None;
        let mut quote: Option<char> = None;
        for c in body.chars() {
            let before = raw_prev.replace(c);
            if let Some(q) = quote {
                if c == q {
                    quote = None;
                }
                prev = Some(c);
                continue;
            }
            let at_start = flow > 0 || matches!(prev, None | Some(':' | '-' | ',' | '[' | '{'));
            match c {
                '#' if matches!(before, None | Some(' ')) => break,
                '"' | '\'' if at_start => quote = Some(c),
                '[' | '{' if at_start => {
                    flow += 1;
                    if block + flow > max {
                        return Some(n + 1);
                    }
                }
                ']' | '}' if flow > 0 => flow -= 1,
                _ => {}
            }
            if c != ' ' {
                prev = Some(c);
            }
        }
    }
    None
}

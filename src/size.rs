//! Sizes written by people: the CI thresholds (`highestWastedBytes: 20MB`)
//! and the explorer's size filter (`>10M`) share this one grammar and one
//! unit rule, so `20MB` means the same in both. The rule is dive's (go-humanize's):
//! `k M G T` (with or without `B`) are powers of 1000, `KiB MiB GiB TiB`
//! (or `Ki Mi Gi Ti`) powers of 1024; units are case-insensitive. Sizes are
//! *shown* in binary units (`MiB`), so a value copied from the screen keeps
//! its meaning.

use crate::{Error, Result};

/// The grammar of a size, for error messages and help.
pub const SIZE_GRAMMAR: &str =
    "NUMBER[UNIT], UNIT one of B k M G T (×1000) or KiB MiB GiB TiB (×1024), e.g. 20MB, 1.5GiB";

/// The grammar of a size filter, for error messages and help.
pub const FILTER_GRAMMAR: &str =
    "OP SIZE with no spaces, OP one of > >= < <= =, SIZE as 10M (10⁶) or 10MiB (2²⁰), e.g. >10M, <=4KiB";

/// A comparison with a size: what the explorer's `z` filter holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Comparison {
    pub op: Op,
    pub bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
        }
    }
}

impl Comparison {
    /// Does a size of `n` bytes pass?
    pub fn matches(&self, n: u64) -> bool {
        match self.op {
            Op::Gt => n > self.bytes,
            Op::Ge => n >= self.bytes,
            Op::Lt => n < self.bytes,
            Op::Le => n <= self.bytes,
            Op::Eq => n == self.bytes,
        }
    }
}

/// Parse a size filter: an operator then a size, nothing else (`>10M`,
/// `<=4KiB`, `=0`), spaces only around it. The error is one line showing the grammar.
pub fn parse_filter(text: &str) -> Result<Comparison> {
    let text = text.trim();
    let bad = || {
        Error::Usage(format!(
            "size filter `{}`: expected {FILTER_GRAMMAR}",
            crate::error::clean(text)
        ))
    };
    let (op, rest) = if let Some(r) = text.strip_prefix(">=") {
        (Op::Ge, r)
    } else if let Some(r) = text.strip_prefix("<=") {
        (Op::Le, r)
    } else if let Some(r) = text.strip_prefix('>') {
        (Op::Gt, r)
    } else if let Some(r) = text.strip_prefix('<') {
        (Op::Lt, r)
    } else if let Some(r) = text.strip_prefix('=') {
        (Op::Eq, r)
    } else {
        return Err(bad());
    };
    let bytes = bytes(rest).ok_or_else(bad)?;
    Ok(Comparison { op, bytes })
}

/// Parse a size (`20MB` = 20,000,000, `20MiB` = 20 × 2²⁰, `512` bytes).
/// As go-humanize (dive) reads them, spaces around the value and between
/// the number and the unit are allowed (`20 MB`).
pub fn parse_size(text: &str) -> Result<u64> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let compact = format!("{}{}", &t[..split], t[split..].trim_start());
    bytes(&compact).ok_or_else(|| {
        Error::Usage(format!(
            "size `{}`: expected {SIZE_GRAMMAR}",
            crate::error::clean(text)
        ))
    })
}

/// `NUMBER[UNIT]` with nothing around it; None when it is not that or
/// does not fit in 64 bits.
fn bytes(s: &str) -> Option<u64> {
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let (int, frac) = match num.split_once('.') {
        Some((i, f)) => (i, f),
        None => (num, ""),
    };
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if num.contains('.') && (frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "m" | "mb" => 1000u64.pow(2),
        "g" | "gb" => 1000u64.pow(3),
        "t" | "tb" => 1000u64.pow(4),
        "ki" | "kib" => 1 << 10,
        "mi" | "mib" => 1 << 20,
        "gi" | "gib" => 1 << 30,
        "ti" | "tib" => 1 << 40,
        _ => return None,
    };
    let whole = int.parse::<u64>().ok()?.checked_mul(mult)?;
    // The fraction in exact integer arithmetic (rounded down to a byte).
    let frac = &frac[..frac.len().min(18)];
    let part = if frac.is_empty() {
        0
    } else {
        let f = u128::from(frac.parse::<u64>().ok()?);
        let p = f * u128::from(mult) / 10u128.pow(frac.len() as u32);
        if p == 0 && f != 0 && mult == 1 {
            // A fraction of a byte.
            return None;
        }
        u64::try_from(p).ok()?
    };
    whole.checked_add(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(s: &str) -> Option<(Op, u64)> {
        parse_filter(s).ok().map(|f| (f.op, f.bytes))
    }

    #[test]
    fn operators_are_exact() {
        assert_eq!(f(">10M"), Some((Op::Gt, 10_000_000)));
        assert_eq!(f(">=10M"), Some((Op::Ge, 10_000_000)));
        assert_eq!(f("<4KiB"), Some((Op::Lt, 4096)));
        assert_eq!(f("<=4k"), Some((Op::Le, 4000)));
        assert_eq!(f("=0"), Some((Op::Eq, 0)));
        let gt = parse_filter(">100").expect("parse");
        assert!(!gt.matches(100) && gt.matches(101));
        let lt = parse_filter("<100").expect("parse");
        assert!(!lt.matches(100) && lt.matches(99));
        let eq = parse_filter("=100").expect("parse");
        assert!(eq.matches(100) && !eq.matches(101));
    }

    #[test]
    fn grammar_is_strict() {
        for bad in [
            ">>100k", "> 1 M", ">1 M", "10M", "", ">", ">1.", ">.5M", ">1x", ">-1", ">1.5B", "=>1",
            ">1MM",
        ] {
            let e = parse_filter(bad).expect_err(bad).to_string();
            assert_eq!(
                e,
                format!("size filter `{bad}`: expected {FILTER_GRAMMAR}"),
                "{bad}"
            );
        }
        assert!(parse_filter(">99999999999T").is_err(), "overflow");
        assert_eq!(
            f(" >1M "),
            Some((Op::Gt, 1_000_000)),
            "space around is fine"
        );
    }

    #[test]
    fn one_unit_rule() {
        assert_eq!(parse_size("20MB").ok(), Some(20_000_000));
        assert_eq!(parse_size("20mb").ok(), Some(20_000_000));
        assert_eq!(parse_size("20M").ok(), Some(20_000_000));
        assert_eq!(parse_size("20MiB").ok(), Some(20 << 20));
        assert_eq!(parse_size("1.5GiB").ok(), Some(3 << 29));
        assert_eq!(parse_size("1.5k").ok(), Some(1500));
        assert_eq!(parse_size("512").ok(), Some(512));
        assert_eq!(
            parse_size(" 20 MB ").ok(),
            Some(20_000_000),
            "as dive reads it"
        );
        assert_eq!(
            parse_size("lots").expect_err("lots").to_string(),
            format!("size `lots`: expected {SIZE_GRAMMAR}")
        );
    }
}

//! CI evaluation never swallows a failure: a rule that cannot run says why
//! (SKIP with the reason), and figures that cannot be computed are an error.
// See: issue 11 "Errors keep their kind".

mod common;

use layerscope::ci::{self, Overrides, RuleSet, RuleStatus};
use layerscope_synth::{ImageBuilder, LayerBuilder};

fn image() -> (layerscope::load::Loaded, layerscope::analysis::Analysis) {
    common::load_bytes(
        &ImageBuilder::new()
            .layer(LayerBuilder::new("base").file("etc/secret.key", b"k"))
            .docker_legacy(),
    )
}

fn rules() -> RuleSet {
    RuleSet::resolve(
        Some(std::path::Path::new("/dev/null")),
        &Overrides::default(),
    )
    .expect("rules")
}

#[test]
fn a_forbidden_path_rule_with_a_bad_glob_is_a_skip_with_the_reason() {
    let (l, a) = image();
    let mut r = rules();
    r.forbidden = vec!["etc/[".into()];
    let o = ci::evaluate(&r, &l, &a).expect("outcome");
    let v = o
        .verdicts
        .iter()
        .find(|v| v.rule == "forbiddenPaths")
        .expect("verdict");
    assert_eq!(v.status, RuleStatus::Skip);
    assert_eq!(v.threshold, "etc/[");
    assert!(
        v.message.starts_with("invalid glob \"etc/[\": "),
        "{}",
        v.message
    );
}

#[test]
fn a_bad_ignore_glob_is_an_error_not_unfiltered_figures() {
    let (l, a) = image();
    let mut r = rules();
    r.ignored = vec!["etc/[".into()];
    let e = ci::evaluate(&r, &l, &a).expect_err("bad glob");
    assert!(e.to_string().starts_with("invalid glob \"etc/[\": "), "{e}");
}

#[test]
fn the_resolver_refuses_a_bad_glob_from_the_flags() {
    let o = Overrides {
        forbidden_paths: vec!["[".into()],
        ..Overrides::default()
    };
    let e = RuleSet::resolve(Some(std::path::Path::new("/dev/null")), &o).expect_err("bad");
    assert!(
        e.to_string()
            .starts_with("CI rule forbiddenPaths: invalid glob \"[\": "),
        "{e}"
    );
}

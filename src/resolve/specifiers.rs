//! PEP 440 version specifiers as PubGrub ranges, local version labels included.
//!
//! `pep440_rs` turns `==1.2.3` into the single version 1.2.3 and `<=1.2.3` into everything up
//! to 1.2.3, so neither matches `1.2.3+cpu`. The specification says otherwise: unless a
//! specifier names a local version itself, "local version labels MUST be ignored entirely when
//! checking if candidate versions match", with one exception, `>V`, which "MUST NOT match a local
//! version of the specified version". A local version sorts right after its public version and
//! before any later release, so "V and every V+label" is the half-open range from V to the
//! first version after all of them ([`after_locals`]).
//!
//! <https://packaging.python.org/en/latest/specifications/version-specifiers/>

use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
use pubgrub::Ranges;

type Range = Ranges<Version>;

/// The versions that satisfy every specifier.
pub(super) fn range(specifiers: &VersionSpecifiers) -> Range {
    specifiers.iter().fold(Range::full(), |range, specifier| range.intersection(&specifier_range(specifier)))
}

/// The versions that satisfy one specifier.
pub(super) fn specifier_range(specifier: &VersionSpecifier) -> Range {
    let version = specifier.version();
    // A specifier that names a local version compares it strictly (`==1.2.3+cpu`); wildcards
    // and the other operators already cover the local versions they should.
    if version.is_local() {
        return Range::from(specifier.clone());
    }
    match specifier.operator() {
        Operator::Equal => same_public(version),
        Operator::NotEqual => same_public(version).complement(),
        Operator::LessThanEqual => Range::strictly_lower_than(after_locals(version)),
        _ => Range::from(specifier.clone()),
    }
}

/// `version` and each of its local versions (`1.2.3`, `1.2.3+cpu`, `1.2.3+cu121.abc`).
fn same_public(version: &Version) -> Range {
    Range::from_range_bounds(version.clone()..after_locals(version))
}

/// The lowest version above `version` and all its local versions: the next dev release when
/// `version` is one, else the next post release's first dev release (`1.2.3` -> `1.2.3.post0.dev0`,
/// `1.2.3.post1` -> `1.2.3.post2.dev0`, `1.2.3.dev4` -> `1.2.3.dev5`).
fn after_locals(version: &Version) -> Version {
    let version = version.clone();
    match (version.dev(), version.post()) {
        (Some(dev), _) => version.with_dev(Some(dev.saturating_add(1))),
        (None, Some(post)) => version.with_post(Some(post.saturating_add(1))).with_dev(Some(0)),
        (None, None) => version.with_post(Some(0)).with_dev(Some(0)),
    }
}

/// The first version a `<=version` does not cover, undone: `1.2.3.post0.dev0` -> `1.2.3`.
fn before_locals(bound: &Version) -> Option<Version> {
    if bound.dev() != Some(0) || bound.is_local() {
        return None;
    }
    let public = match bound.post()? {
        0 => bound.clone().with_post(None),
        post => bound.clone().with_post(Some(post - 1)),
    };
    Some(public.with_dev(None)).filter(|public| &after_locals(public) == bound)
}

/// The single versions (each with its local versions) that `range` leaves out, when it leaves
/// out nothing else: `!=1.0` gives `[1.0]`, `>=1` gives `None`.
fn excluded_points(range: &Range) -> Option<Vec<Version>> {
    use std::ops::Bound::{Excluded, Included};
    range
        .complement()
        .iter()
        .map(|segment| match segment {
            (Included(low), Included(high)) if low == high => Some(low.clone()),
            (Included(low), Excluded(high)) if &after_locals(low) == high => Some(low.clone()),
            _ => None,
        })
        .collect()
}

/// A range in specifier syntax: `==2.5.1` for 2.5.1 and its local versions, `<=1.2.3`,
/// `>=1, <2`, `!=1.5`, alternatives joined by ` or `.
pub(super) fn show(range: &Range) -> String {
    use std::ops::Bound::{Excluded, Included, Unbounded};
    if range == &Range::full() {
        return "*".into();
    }
    if range.is_empty() {
        return "(no version)".into();
    }
    if let Some(points) = excluded_points(range) {
        return points.iter().map(|point| format!("!={point}")).collect::<Vec<_>>().join(", ");
    }
    let segments: Vec<String> = range
        .iter()
        .map(|segment| match segment {
            (Included(low), Included(high)) if low == high => format!("=={low}"),
            (Included(low), Excluded(high)) if &after_locals(low) == high => format!("=={low}"),
            (low, high) => {
                let low = match low {
                    Unbounded => None,
                    Included(version) => Some(format!(">={version}")),
                    Excluded(version) => Some(format!(">{version}")),
                };
                let high = match high {
                    Unbounded => None,
                    Included(version) => Some(format!("<={version}")),
                    Excluded(version) => Some(match before_locals(version) {
                        Some(public) => format!("<={public}"),
                        None => format!("<{version}"),
                    }),
                };
                low.into_iter().chain(high).collect::<Vec<_>>().join(", ")
            }
        })
        .collect();
    segments.join(" or ")
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn matches(specifiers: &str, version: &str) -> bool {
        let specifiers = VersionSpecifiers::from_str(specifiers).unwrap();
        range(&specifiers).contains(&Version::from_str(version).unwrap())
    }

    #[test]
    fn local_labels_follow_pep_440() {
        // (specifier, version, matches)
        let cases = [
            ("==1.2.3", "1.2.3+cpu", true),
            ("==1.2.3", "1.2.3", true),
            ("==1.2.3", "1.2.3.post0", false),
            ("==1.2.3", "1.2.4.dev0", false),
            ("==1.2.3+cpu", "1.2.3+cpu", true),
            ("==1.2.3+cpu", "1.2.3+cu121", false),
            ("==1.2.3+cpu", "1.2.3", false),
            ("!=1.2.3", "1.2.3+cpu", false),
            ("!=1.2.3", "1.2.2+cpu", true),
            ("!=1.2.3+cpu", "1.2.3+cu121", true),
            ("<=1.2.3", "1.2.3+cpu", true),
            ("<=1.2.3", "1.2.3.post1", false),
            ("<1.2.3", "1.2.3+cpu", false),
            ("<1.2.3", "1.2.2+cpu", true),
            (">1.2.3", "1.2.3+cpu", false),
            (">1.2.3", "1.2.3.post1", false),
            (">1.2.3", "1.2.4+cpu", true),
            (">=1.2.3", "1.2.3+cpu", true),
            (">=1.2.3", "1.2.2+cpu", false),
            ("~=1.2", "1.9+cpu", true),
            ("==1.2.*", "1.2.9+cpu", true),
            ("==1.2.3rc1", "1.2.3rc1+cpu", true),
            ("==1.2.3rc1", "1.2.3rc1.post0", false),
            ("==1.2.3.post1", "1.2.3.post1+cpu", true),
            ("==1.2.3.post1", "1.2.3.post2.dev0", false),
            ("==1.2.3.dev4", "1.2.3.dev4+cpu", true),
            ("==1.2.3.dev4", "1.2.3.dev5", false),
            ("<=1.2.3.dev4", "1.2.3.dev4+cpu", true),
        ];
        for (specifier, version, expected) in cases {
            assert_eq!(matches(specifier, version), expected, "{specifier} against {version}");
        }
    }

    #[test]
    fn ranges_show_as_specifiers() {
        for (specifiers, shown) in [
            ("==2.5.1", "==2.5.1"),
            ("==2.5.1+cpu", "==2.5.1+cpu"),
            ("<=1.2.3", "<=1.2.3"),
            ("<=1.2.3.post2", "<=1.2.3.post2"),
            (">=1,<2", ">=1, <2"),
            ("!=1.5", "!=1.5"),
            ("!=1.5,!=1.7", "!=1.5, !=1.7"),
            (">1.2.3", ">1.2.3"),
            ("", "*"),
        ] {
            let parsed = VersionSpecifiers::from_str(specifiers).unwrap();
            assert_eq!(show(&range(&parsed)), shown, "{specifiers}");
        }
        let either = range(&VersionSpecifiers::from_str("<1").unwrap())
            .union(&range(&VersionSpecifiers::from_str(">=2").unwrap()));
        assert_eq!(show(&either), "<1 or >=2");
    }

    #[test]
    fn ranges_agree_with_pep440_rs_on_public_versions() {
        let versions = ["1.2.2", "1.2.3", "1.2.3rc1", "1.2.3.post1", "1.2.3.dev1", "1.2.4", "2.0"];
        for specifier in ["==1.2.3", "!=1.2.3", "<=1.2.3", "<1.2.3", ">1.2.3", ">=1.2.3", "~=1.2.3"] {
            let parsed = VersionSpecifiers::from_str(specifier).unwrap();
            for version in versions {
                let version = Version::from_str(version).unwrap();
                assert_eq!(range(&parsed).contains(&version), parsed.contains(&version), "{specifier} {version}");
            }
        }
    }
}

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
//! Exclusive comparisons with a post release are corrected too: `pep440_rs` ends `<1.2.post1`
//! below every 1.2 version, so 1.2 itself is left out, and starts `>1.2.post1` at 1.2.post2, so
//! 1.2.post2's dev releases are. Here `<1.2.post1` leaves out only 1.2's pre-releases, as
//! `<1.2` does. The test `against_the_spec` checks every operator against the spec's text.
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
        // `<1.2.post1` leaves out the pre-releases of 1.2 (as `<1.2` does) but keeps 1.2, its
        // local versions and its earlier post releases.
        Operator::LessThan if version.post().is_some() && !version.any_prerelease() => {
            let release = Version::new(version.release()).with_epoch(version.epoch());
            Range::strictly_lower_than(release.clone().with_min(Some(0)))
                .union(&Range::from_range_bounds(release..version.clone().with_dev(Some(0))))
        }
        // `>1.2.post1` and `>1.2.dev1` leave out only the version itself and its local
        // versions: `1.2.post2.dev0` is newer and no post release of 1.2.post1.
        Operator::GreaterThan if version.post().is_some() || version.dev().is_some() => {
            Range::higher_than(after_locals(version))
        }
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

/// A plain release's first dev release (`1.26.dev0`): where a prefix range starts and ends.
fn release_dev0(version: &Version) -> bool {
    version.dev() == Some(0)
        && version.pre().is_none()
        && version.post().is_none()
        && !version.is_local()
        && version.min().is_none()
        && version.max().is_none()
}

/// The next release at the last segment of `release`, as a range bound: `[1, 26]` -> `1.27.dev0`.
fn next_prefix(epoch: u64, release: &[u64]) -> Option<Version> {
    let (last, rest) = release.split_last()?;
    let bumped: Vec<u64> = rest.iter().copied().chain([last.checked_add(1)?]).collect();
    Some(Version::new(bumped).with_epoch(epoch).with_dev(Some(0)))
}

/// The prefix of `==1.26.*` when `[low, high)` is exactly its range (`1.26.dev0` to `1.27.dev0`).
fn wildcard_prefix(low: &Version, high: &Version) -> Option<String> {
    if !release_dev0(low) || next_prefix(low.epoch(), low.release()).as_ref() != Some(high) {
        return None;
    }
    Some(low.clone().with_dev(None).to_string())
}

/// Whether `[low, high)` is `~=low`'s range (`1.26.1` to `1.27.dev0`).
fn compatible_release(low: &Version, high: &Version) -> bool {
    let release = low.release();
    release.len() >= 2
        && !low.is_local()
        && low.min().is_none()
        && next_prefix(low.epoch(), &release[..release.len() - 1]).as_ref() == Some(high)
}

/// A range in specifier syntax: `==2.5.1` for 2.5.1 and its local versions, `<=1.2.3`,
/// `>=1, <2`, `!=1.5`, alternatives joined by ` or `.
pub(super) fn show(range: &Range) -> String {
    use std::ops::Bound::{self, Excluded, Included, Unbounded};
    if range == &Range::full() {
        return "*".into();
    }
    if range.is_empty() {
        return "(no version)".into();
    }
    if let Some(points) = excluded_points(range) {
        return points.iter().map(|point| format!("!={point}")).collect::<Vec<_>>().join(", ");
    }
    // `!=1.26.*`: everything but one prefix.
    if let [(Included(low), Excluded(high))] = range.complement().iter().collect::<Vec<_>>()[..]
        && let Some(prefix) = wildcard_prefix(low, high)
    {
        return format!("!={prefix}.*");
    }
    // `<1.2.post1` is two segments, below 1.2's pre-releases and from 1.2 up to 1.2.post1's
    // dev releases; shown joined, as the one specifier it came from.
    let mut joined: Vec<(&Bound<Version>, &Bound<Version>, bool)> = Vec::new();
    for (low, high) in range.iter() {
        if let Some(last) = joined.last_mut()
            && let (Excluded(end), Included(start)) = (last.1, low)
            && end.min().is_some()
            && end.clone().with_min(None) == *start
            && matches!(high, Excluded(bound) if bound.dev() == Some(0) && bound.post().is_some() && bound.pre().is_none())
        {
            *last = (last.0, high, true);
            continue;
        }
        joined.push((low, high, false));
    }
    let segments: Vec<String> = joined
        .into_iter()
        .map(|segment| match segment {
            (Included(low), Included(high), _) if low == high => format!("=={low}"),
            (Included(low), Excluded(high), _) if &after_locals(low) == high => format!("=={low}"),
            (Included(low), Excluded(high), _) if wildcard_prefix(low, high).is_some() => {
                format!("=={}.*", wildcard_prefix(low, high).unwrap_or_default())
            }
            (Included(low), Excluded(high), _) if compatible_release(low, high) => format!("~={low}"),
            (low, high, joined) => {
                let low = match low {
                    Unbounded => None,
                    // `>1.2.post1` is everything from 1.2.post2.dev0 on.
                    Included(version) => Some(match before_locals(version).filter(|public| public.post().is_some()) {
                        Some(public) => format!(">{public}"),
                        None => format!(">={version}"),
                    }),
                    Excluded(version) => Some(format!(">{version}")),
                };
                let high = match high {
                    Unbounded => None,
                    Included(version) => Some(format!("<={version}")),
                    // The end of a joined `<1.2.post1`.
                    Excluded(version) if joined => Some(format!("<{}", version.clone().with_dev(None))),
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
            ("==1.2.3+CPU", "1.2.3+cpu", true),
            ("==1.2.3+cu121-abc", "1.2.3+cu121.abc", true),
            ("==1!1.2.3", "1!1.2.3+cpu", true),
            ("==1!1.2.3", "1.2.3+cpu", false),
            ("==1.2.3", "1.2.3.0+cpu", true),
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
            ("<1.2.3", "<1.2.3"),
            ("<1.2.3.post1", "<1.2.3.post1"),
            (">=1,<1.2.3.post1", ">=1, <1.2.3.post1"),
            (">1.2.3.post1", ">1.2.3.post1"),
            ("<1.2.3rc1", "<1.2.3rc1"),
            ("==1.26.*", "==1.26.*"),
            ("!=1.26.*", "!=1.26.*"),
            ("==1!2.*", "==1!2.*"),
            ("~=1.26.1", "~=1.26.1"),
            ("~=2.2.post3", "~=2.2.post3"),
            (">=1.26.dev0,<1.27.dev1", ">=1.26.dev0, <1.27.dev1"),
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

/// Every specifier against many versions, checked against the specification's own words (an
/// oracle written from the spec text, not from any implementation).
#[cfg(test)]
mod against_the_spec {
    use std::str::FromStr;

    use pep440_rs::{Operator, Version, VersionSpecifier};

    use super::specifier_range;

    /// The release segment padded with zeros to `len`.
    fn padded(version: &Version, len: usize) -> Vec<u64> {
        let mut release = version.release().to_vec();
        release.resize(len.max(release.len()), 0);
        release
    }

    /// Same epoch and, zero-padded, the same release segment: `1.0` and `1.0.0rc1`.
    fn same_release(a: &Version, b: &Version) -> bool {
        let len = a.release().len().max(b.release().len());
        a.epoch() == b.epoch() && padded(a, len) == padded(b, len)
    }

    /// `candidate`'s release starts with `prefix`, zero-padded (`==1.2.*` holds for `1.2`,
    /// `1.2.0`, `1.2.9.post1`, not for `1`).
    fn has_prefix(candidate: &Version, epoch: u64, prefix: &[u64]) -> bool {
        candidate.epoch() == epoch && padded(candidate, prefix.len())[..prefix.len()] == *prefix
    }

    /// A pre-release of `spec` in the sense of "<V MUST NOT allow a pre-release of the
    /// specified version": a pre- or dev release of V's release (`1.0rc1`, `1.0.dev0`,
    /// `1.0.post1.dev0` for `<1.0.post1`); a dev release of an earlier post release
    /// (`1.0.post0.dev0`) is a pre-release of that post release, not of V.
    fn pre_release_of(candidate: &Version, spec: &Version) -> bool {
        !spec.any_prerelease()
            && candidate.any_prerelease()
            && same_release(candidate, spec)
            && !(candidate.pre().is_none() && candidate.post().is_some() && candidate.post() < spec.post())
    }

    /// A post-release of `spec` in the sense of ">V MUST NOT allow a post-release of the given
    /// version unless V itself is a post release": `1.0.post1` and `1.0.post1.dev0` for `>1.0`.
    fn post_release_of(candidate: &Version, spec: &Version) -> bool {
        spec.post().is_none()
            && spec.dev().is_none()
            && candidate.post().is_some()
            && candidate.clone().with_post(None).with_dev(None).without_local() == *spec
    }

    fn spec_says(operator: Operator, spec: &Version, candidate: &Version) -> bool {
        // "local version labels MUST be ignored entirely when checking if candidate versions
        // match", unless the specifier names one (`==`/`!=` only).
        let public = candidate.clone().without_local();
        let equal = || if spec.is_local() { candidate == spec } else { public == *spec };
        let star = || has_prefix(candidate, spec.epoch(), spec.release());
        match operator {
            Operator::Equal => equal(),
            Operator::NotEqual => !equal(),
            Operator::EqualStar => star(),
            Operator::NotEqualStar => !star(),
            Operator::LessThanEqual => public <= *spec,
            Operator::GreaterThanEqual => public >= *spec,
            Operator::LessThan => public < *spec && !pre_release_of(candidate, spec),
            Operator::GreaterThan => public > *spec && !post_release_of(candidate, spec),
            Operator::TildeEqual => {
                let release = spec.release();
                public >= *spec && has_prefix(candidate, spec.epoch(), &release[..release.len() - 1])
            }
            Operator::ExactEqual => unreachable!("not generated"),
        }
    }

    /// Versions around 1.2.3 in every shape: epochs, zero padding, pre, post, dev, local.
    fn versions(releases: &[&str], locals: bool) -> Vec<String> {
        let mut out = Vec::new();
        for epoch in ["", "1!"] {
            for release in releases {
                for pre in ["", "a1", "rc1"] {
                    for post in ["", ".post0", ".post1", ".post2"] {
                        for dev in ["", ".dev0", ".dev1"] {
                            for local in if locals { &["", "+cpu"][..] } else { &[""][..] } {
                                out.push(format!("{epoch}{release}{pre}{post}{dev}{local}"));
                            }
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn ranges_match_the_specification() {
        let candidates: Vec<Version> = versions(&["1", "1.2", "1.2.0", "1.2.3", "1.2.3.0", "1.2.4", "1.3"], true)
            .iter()
            .map(|text| Version::from_str(text).expect("valid version"))
            .collect();
        let operators = ["==", "!=", "<=", ">=", "<", ">", "~="];
        let mut specifiers: Vec<String> = versions(&["1.2", "1.2.3"], false)
            .iter()
            .flat_map(|version| operators.iter().map(move |operator| format!("{operator}{version}")))
            .collect();
        specifiers.extend(["==1.2.3+cpu", "!=1.2.3+cpu", "==1.2.3rc1+cpu", "==1.2.3.post1+cpu"].map(String::from));
        specifiers.extend(["==1.*", "==1.2.*", "!=1.2.*", "==1.2.3.*", "!=1.2.3.*", "==1!1.2.*"].map(String::from));
        let mut failures = Vec::new();
        for text in &specifiers {
            let Ok(specifier) = VersionSpecifier::from_str(text) else { continue };
            let range = specifier_range(&specifier);
            for candidate in &candidates {
                let want = spec_says(*specifier.operator(), specifier.version(), candidate);
                if range.contains(candidate) != want {
                    failures.push(format!("{text} against {candidate}: the spec says {want}"));
                }
            }
        }
        let count = failures.len();
        failures.truncate(40);
        assert!(failures.is_empty(), "{count} disagreements, first ones:\n{}", failures.join("\n"));
    }
}

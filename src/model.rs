//! Core types that every stage shares: which member of a workspace a requirement belongs to, when
//! pre-releases may be chosen, which API an index speaks, and a URL shown without its credentials.
//!
//! `manifest` translates `lambda.toml` into these; `resolve`, `index`, `lockfile` and `ops` use
//! them without depending on the manifest (its wire types, TOML or spans), so data flows one way.
//! Nothing here does IO.

use std::fmt;

use url::Url;

/// The source name of the `find-links` directories: what a package pinned with
/// `{ find-links = true }` maps to in `[workspace.sources]` and the lock, and the `source` of a
/// locked package that only find-links has. No index may take this name.
pub const FIND_LINKS: &str = "find-links";

/// The `source` of a locked local package (a path package): what `[workspace.sources]`
/// `{ path = ... }` and `[tool.uv.sources]` `{ path = ... }` / `{ workspace = true }` give. No index
/// may take this name.
pub const PATH_SOURCE: &str = "path";

/// A local package: a project directory inside the workspace whose static metadata lbuild read.
/// It is one version with its own requirements; no index is ever asked about its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalPackage {
    /// The normalized name (PEP 503).
    pub name: String,
    pub version: pep440_rs::Version,
    /// The project directory relative to the workspace root, `/`-separated (`libs/common`).
    pub path: String,
    /// `Requires-Dist` as its core metadata would say it: the dependencies, then each optional
    /// dependency with an `extra == "NAME"` marker.
    pub requires_dist: Vec<pep508_rs::Requirement>,
    /// The extras it defines (normalized).
    pub extras: Vec<String>,
    pub requires_python: Option<pep440_rs::VersionSpecifiers>,
}

impl LocalPackage {
    /// Whether a workspace-relative path is one lbuild writes for a local package: relative,
    /// `/`-separated, no `.`, `..` or empty component, no backslash, colon or control character
    /// (a lock from an untrusted change must not point a build outside the workspace).
    /// `.` is the workspace root itself.
    pub fn is_safe_path(path: &str) -> bool {
        path == "."
            || !path.is_empty()
                && !path.chars().any(|c| c == '\\' || c == ':' || c.is_control())
                && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
    }
}

/// Whether a member is a function or a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberKind {
    Function,
    Layer,
}

/// A function or layer of the workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MemberId {
    pub kind: MemberKind,
    pub name: String,
}

impl MemberId {
    /// `function.api` / `layer.common`: the key used in `lambda.lock`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.kind_str(), self.name)
    }

    /// The member a lock key such as `function.api` names.
    pub fn from_key(key: &str) -> Option<MemberId> {
        let (kind, name) = key.split_once('.')?;
        let kind = match kind {
            "function" => MemberKind::Function,
            "layer" => MemberKind::Layer,
            _ => return None,
        };
        Some(MemberId { kind, name: name.to_string() })
    }

    pub fn kind_str(&self) -> &'static str {
        match self.kind {
            MemberKind::Function => "function",
            MemberKind::Layer => "layer",
        }
    }
}

impl fmt::Display for MemberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind_str(), self.name)
    }
}

/// The longest function or layer name lbuild takes: Lambda's limit on a layer name (a function
/// name may have 64 characters). It also keeps artifact file names within what file systems hold.
pub(crate) const MAX_MEMBER_NAME: usize = 140;

/// The name of the layer `shared-layer = "auto"` generates (no `[layer.NAME]` may take it).
pub(crate) const SHARED_LAYER: &str = "shared";

/// A function or layer name: letters, digits, `-` and `_`, starting with a letter or digit, at
/// most [`MAX_MEMBER_NAME`] characters. The manifest, the lock reader and `init` apply the same
/// rule, since member names become file names.
pub(crate) fn is_valid_member_name(name: &str) -> bool {
    name.len() <= MAX_MEMBER_NAME
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
}

/// When pre-releases may be chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PrereleaseMode {
    /// Never: a requirement that only a pre-release satisfies fails to resolve.
    Disallow,
    /// Always allowed, like any other version.
    Allow,
    /// Only for packages whose requirement names a pre-release, or when nothing else fits
    /// (the default, as in pip and uv).
    #[default]
    IfNecessaryOrExplicit,
}

impl PrereleaseMode {
    pub const ALL: [PrereleaseMode; 3] =
        [PrereleaseMode::Allow, PrereleaseMode::Disallow, PrereleaseMode::IfNecessaryOrExplicit];

    pub fn as_str(&self) -> &'static str {
        match self {
            PrereleaseMode::Disallow => "disallow",
            PrereleaseMode::Allow => "allow",
            PrereleaseMode::IfNecessaryOrExplicit => "if-necessary-or-explicit",
        }
    }

    /// The mode `lambda.toml` spells `name`.
    pub fn from_name(name: &str) -> Option<PrereleaseMode> {
        PrereleaseMode::ALL.into_iter().find(|mode| mode.as_str() == name)
    }
}

/// How the members of a target are split into resolutions (`[workspace] resolution`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResolutionMode {
    /// One resolution per target for every member, except the functions marked `isolated`.
    #[default]
    Unified,
    /// One resolution per target for each function, together with its layers and every other
    /// function that shares one of them.
    PerFunction,
}

impl ResolutionMode {
    pub const ALL: [ResolutionMode; 2] = [ResolutionMode::Unified, ResolutionMode::PerFunction];

    pub fn as_str(&self) -> &'static str {
        match self {
            ResolutionMode::Unified => "unified",
            ResolutionMode::PerFunction => "per-function",
        }
    }

    /// The mode `lambda.toml` spells `name`.
    pub fn from_name(name: &str) -> Option<ResolutionMode> {
        ResolutionMode::ALL.into_iter().find(|mode| mode.as_str() == name)
    }
}

/// A member of a target as grouping sees it: its layers (a function's) and whether it is
/// `isolated` (a function resolved on its own even in unified mode).
#[derive(Debug, Clone)]
pub struct GroupingMember {
    pub id: MemberId,
    pub layers: Vec<String>,
    pub isolated: bool,
}

/// One resolution of a target: its name (`None` for the unified group, which the lock writes
/// without a name) and its members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub name: Option<String>,
    pub members: Vec<MemberId>,
}

/// The resolution groups of one target's members.
///
/// Functions and the layers they use are connected; each connected set is resolved together,
/// since a layer's packages must be the ones its functions import. In per-function mode each
/// connected set is a group of its own; in unified mode the sets that hold an `isolated`
/// function are, and all the others form the one unnamed group. A named group is named after
/// the key of its first member (`function.api`; functions sort before layers), so it stays the
/// same whatever else the workspace holds. The manifest refuses an isolated function that shares
/// a layer with another one, so an isolated function's group is itself and its own layers.
///
/// The lock's reader computes the same groups from `[inputs]` and checks the lock against them,
/// so this is the one definition.
pub fn resolution_groups(mode: ResolutionMode, members: &[GroupingMember]) -> Vec<Group> {
    use std::collections::{BTreeMap, BTreeSet};
    // Union-find over member keys: a function joins each of its layers that is on the target.
    let keys: BTreeSet<MemberId> = members.iter().map(|member| member.id.clone()).collect();
    let mut parent: BTreeMap<MemberId, MemberId> = keys.iter().map(|key| (key.clone(), key.clone())).collect();
    fn root(parent: &BTreeMap<MemberId, MemberId>, mut key: MemberId) -> MemberId {
        while parent[&key] != key {
            key = parent[&key].clone();
        }
        key
    }
    for member in members {
        for layer in &member.layers {
            let layer = MemberId { kind: MemberKind::Layer, name: layer.clone() };
            if !keys.contains(&layer) {
                continue;
            }
            let (a, b) = (root(&parent, member.id.clone()), root(&parent, layer));
            if a != b {
                // The smaller key stays the root, so a set's root is its first member.
                let (low, high) = if a < b { (a, b) } else { (b, a) };
                parent.insert(high, low);
            }
        }
    }
    let mut sets: BTreeMap<MemberId, Vec<MemberId>> = BTreeMap::new();
    for key in &keys {
        sets.entry(root(&parent, key.clone())).or_default().push(key.clone());
    }
    let isolated: BTreeSet<&MemberId> =
        members.iter().filter(|member| member.isolated).map(|member| &member.id).collect();
    let mut unified = Vec::new();
    let mut groups = Vec::new();
    for (first, set) in sets {
        let apart = mode == ResolutionMode::PerFunction || set.iter().any(|member| isolated.contains(member));
        if apart {
            groups.push(Group { name: Some(first.key()), members: set });
        } else {
            unified.extend(set);
        }
    }
    if !unified.is_empty() {
        unified.sort();
        groups.insert(0, Group { name: None, members: unified });
    }
    groups
}

/// What the lock of another tool (`uv.lock`, `poetry.lock`, `Pipfile.lock`) that governs a
/// member's requirements file means to the resolution: `[workspace] project-lock`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProjectLockMode {
    /// Its versions are preferred wherever they fit the target; every difference is a warning.
    #[default]
    Prefer,
    /// As `prefer`, and every difference is an error (at `lbuild lock` and `--locked`).
    Require,
    /// Not read.
    Ignore,
}

impl ProjectLockMode {
    pub const ALL: [ProjectLockMode; 3] = [ProjectLockMode::Prefer, ProjectLockMode::Require, ProjectLockMode::Ignore];

    pub fn as_str(&self) -> &'static str {
        match self {
            ProjectLockMode::Prefer => "prefer",
            ProjectLockMode::Require => "require",
            ProjectLockMode::Ignore => "ignore",
        }
    }

    /// The mode `lambda.toml` spells `name`.
    pub fn from_name(name: &str) -> Option<ProjectLockMode> {
        ProjectLockMode::ALL.into_iter().find(|mode| mode.as_str() == name)
    }
}

/// Which API an index speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexApi {
    /// The PyPI JSON API: `<url>/<name>/json`.
    PypiJson,
    /// A simple repository: `<url>/<name>/`, PEP 691 JSON or PEP 503 HTML by content negotiation
    /// (the response's content type says which).
    Simple,
}

impl IndexApi {
    /// The API a URL implies when none is given: a path ending in `/pypi` is the JSON API,
    /// anything else a simple repository.
    pub fn detect(url: &str) -> IndexApi {
        let path = url::Url::parse(url).map(|url| url.path().trim_end_matches('/').to_string()).unwrap_or_default();
        if path.ends_with("/pypi") { IndexApi::PypiJson } else { IndexApi::Simple }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            IndexApi::PypiJson => "json",
            IndexApi::Simple => "simple",
        }
    }

    /// The API `lambda.toml` spells `name` (`json` or `simple`).
    pub fn from_name(name: &str) -> Option<IndexApi> {
        [IndexApi::PypiJson, IndexApi::Simple].into_iter().find(|api| api.as_str() == name)
    }
}

/// A URL as lbuild shows it: `Display` and `Debug` never show a username or password, even
/// for text that does not parse as a URL. The text as given is reachable only through
/// [`SecretUrl::expose_for_request`], for code that sends requests. It lives here, below the
/// manifest and the index client, because both show URLs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct SecretUrl(String);

impl SecretUrl {
    pub fn new(text: impl Into<String>) -> SecretUrl {
        SecretUrl(text.into())
    }

    /// The URL with its credentials, for making a request. Never print it.
    pub fn expose_for_request(&self) -> &str {
        &self.0
    }

    fn redacted(&self) -> String {
        match Url::parse(&self.0) {
            // `me:s3cret@host/x` parses, as scheme `me` with a path: only a URL with a host
            // has its credentials where `url` can find them.
            Ok(mut parsed) if parsed.has_host() => {
                let userinfo = !parsed.username().is_empty() || parsed.password().is_some();
                let _ = parsed.set_username("****");
                let _ = parsed.set_password(None);
                // With credentials and another `@` after the host (`https://me:p@ss/w@rd@host/`,
                // a password with an unescaped `/`), the rest may be password too.
                if !userinfo {
                    return self.0.clone();
                }
                let shown = parsed.to_string();
                let after = shown.find("****@").map_or(0, |at| at + "****@".len());
                if shown[after..].contains('@') { self.fallback() } else { shown }
            }
            // Not such a URL: remove whatever lies between the scheme and the last `@`, which
            // is where credentials would be (too much is hidden rather than too little).
            _ => self.fallback(),
        }
    }

    fn fallback(&self) -> String {
        let start = self.0.find("://").map_or(0, |at| at + 3);
        match self.0[start..].rfind('@') {
            Some(at) => format!("{}****{}", &self.0[..start], &self.0[start + at..]),
            None => self.0.clone(),
        }
    }
}

impl std::fmt::Display for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.redacted())
    }
}

impl From<&Url> for SecretUrl {
    fn from(url: &Url) -> SecretUrl {
        SecretUrl(url.to_string())
    }
}

/// A URL for display, through [`SecretUrl`] (for code that writes the text, e.g. lock inputs).
pub(crate) fn redact(url: &str) -> String {
    SecretUrl::new(url).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_keys_round_trip_and_unknown_kinds_are_refused() {
        let member = MemberId { kind: MemberKind::Layer, name: "common".into() };
        assert_eq!(member.key(), "layer.common");
        assert_eq!(MemberId::from_key(&member.key()), Some(member));
        assert_eq!(MemberId::from_key("package.x"), None);
        assert_eq!(MemberId::from_key("function"), None);
    }

    #[test]
    fn member_names_are_file_name_safe() {
        assert!(is_valid_member_name("api-v2_x"));
        for bad in ["", "-api", "_api", "a b", "a/b", "a.b", "é"] {
            assert!(!is_valid_member_name(bad), "{bad:?}");
        }
        assert!(is_valid_member_name(&"a".repeat(MAX_MEMBER_NAME)));
        assert!(!is_valid_member_name(&"a".repeat(MAX_MEMBER_NAME + 1)));
    }

    fn grouping(members: &[(&str, &[&str], bool)]) -> Vec<GroupingMember> {
        members
            .iter()
            .map(|(key, layers, isolated)| GroupingMember {
                id: MemberId::from_key(key).unwrap(),
                layers: layers.iter().map(ToString::to_string).collect(),
                isolated: *isolated,
            })
            .collect()
    }

    fn shown(groups: &[Group]) -> Vec<(Option<String>, Vec<String>)> {
        groups.iter().map(|group| (group.name.clone(), group.members.iter().map(MemberId::key).collect())).collect()
    }

    #[test]
    fn functions_that_share_a_layer_are_one_group() {
        let members = grouping(&[
            ("function.a", &["shared"], false),
            ("function.b", &["shared", "own"], false),
            ("function.c", &[], false),
            ("function.d", &["own"], false),
            ("layer.shared", &[], false),
            ("layer.own", &[], false),
            ("layer.spare", &[], false),
        ]);
        let name = |key: &str| Some(key.to_string());
        let strings = |keys: &[&str]| keys.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(
            shown(&resolution_groups(ResolutionMode::PerFunction, &members)),
            [
                (name("function.a"), strings(&["function.a", "function.b", "function.d", "layer.own", "layer.shared"])),
                (name("function.c"), strings(&["function.c"])),
                (name("layer.spare"), strings(&["layer.spare"])),
            ]
        );
        let unified = resolution_groups(ResolutionMode::Unified, &members);
        assert_eq!(unified.len(), 1);
        assert_eq!(unified[0].name, None);
        assert_eq!(unified[0].members.len(), 7);
    }

    #[test]
    fn an_isolated_function_is_apart_even_in_unified_mode() {
        let members = grouping(&[
            ("function.a", &[], false),
            ("function.b", &["mine"], true),
            ("layer.mine", &[], false),
            ("layer.spare", &[], false),
        ]);
        assert_eq!(
            shown(&resolution_groups(ResolutionMode::Unified, &members)),
            [
                (None, vec!["function.a".to_string(), "layer.spare".to_string()]),
                (Some("function.b".to_string()), vec!["function.b".to_string(), "layer.mine".to_string()]),
            ]
        );
        // Only isolated functions: there is no unified group.
        let alone = grouping(&[("function.b", &[], true)]);
        assert_eq!(
            shown(&resolution_groups(ResolutionMode::Unified, &alone)),
            [(Some("function.b".to_string()), vec!["function.b".to_string()])]
        );
    }

    #[test]
    fn names_round_trip() {
        for mode in PrereleaseMode::ALL {
            assert_eq!(PrereleaseMode::from_name(mode.as_str()), Some(mode));
        }
        assert_eq!(PrereleaseMode::from_name("sometimes"), None);
        for mode in ResolutionMode::ALL {
            assert_eq!(ResolutionMode::from_name(mode.as_str()), Some(mode));
        }
        assert_eq!(ResolutionMode::from_name("per-target"), None);
        for api in [IndexApi::PypiJson, IndexApi::Simple] {
            assert_eq!(IndexApi::from_name(api.as_str()), Some(api));
        }
        assert_eq!(IndexApi::from_name("soap"), None);
        assert_eq!(IndexApi::detect("https://pypi.org/pypi/"), IndexApi::PypiJson);
        assert_eq!(IndexApi::detect("https://pypi.org/simple"), IndexApi::Simple);
    }
}

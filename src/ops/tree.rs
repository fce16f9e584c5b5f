//! `lbuild tree`: the resolved dependency tree of each function and layer, per target, from
//! the lock; `--invert PACKAGE` turns it upside down to answer "why is this package here".
//!
//! Each edge carries the requirement that made it (markers already evaluated for the target),
//! so the tree shows not only what is installed but what asked for it; an edge an extra brings
//! is marked with the extra, and followed only below an edge that names the extra. A package the
//! member's zip leaves out (the build plan decides) says who provides it: a layer or the
//! runtime. A package whose subtree was already shown under the same root is printed once more,
//! marked `(*)`, without children.
//!
//! Each member's tree is read from its resolution group on the target (per-function
//! resolution), so a package locked at two versions on one target shows the version each
//! member's zip holds.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::lockfile::{Graph, requirement_extras, requirement_name};
use crate::manifest::MemberId;
use crate::plan::{BuildPlan, Provided, selection};
use crate::python::wheel_name::normalize_name;
use crate::session::GlobalOptions;

/// Options of `lbuild tree`.
#[derive(Debug, Clone, Default)]
pub struct TreeOptions {
    pub global: GlobalOptions,
    /// `-p NAME`: only these functions or layers.
    pub packages: Vec<String>,
    /// `--target`: only this target.
    pub target: Option<String>,
    /// `--invert PACKAGE`: the packages and members that pull this package in.
    pub invert: Option<String>,
}

/// The trees of every selected target.
#[derive(Debug, Clone, Serialize)]
pub struct TreeReport {
    pub targets: Vec<TargetTree>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetTree {
    pub target: String,
    pub roots: Vec<Node>,
}

/// A function, layer or package in a tree.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// `function`, `layer` or `package`.
    pub kind: &'static str,
    pub name: String,
    /// The locked version (packages only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The requirement on the edge to the parent: what the parent requires of this package in
    /// a normal tree, what this node requires of its parent in an inverted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The extra whose requirement the edge is: of the parent in a normal tree (`web[speed]`
    /// brings `turbo`), of this node in an inverted one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extra: Option<String>,
    /// The gap reason when the package has no usable wheel on this target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
    /// A local package's directory, relative to the workspace root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Who provides the package when the member's zip leaves it out (`the runtime`, `layer
    /// base`), as the build plan decides.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provided_by: Option<String>,
    /// Shown in full earlier under the same root; children left out.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    pub children: Vec<Node>,
}

impl Node {
    /// A node with only its kind and name; the rest is filled in where it is known.
    fn new(kind: &'static str, name: &str) -> Node {
        Node {
            kind,
            name: name.to_string(),
            version: None,
            requirement: None,
            extra: None,
            gap: None,
            path: None,
            provided_by: None,
            repeated: false,
            children: Vec::new(),
        }
    }
}

/// Run `lbuild tree`.
pub fn tree(options: &TreeOptions) -> miette::Result<TreeReport> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let selected = selection(&workspace, &lock, &options.packages, options.target.as_deref())?;
    let plan = BuildPlan::new(&workspace, &lock)?;
    let invert = options.invert.as_deref().map(normalize_name);
    if let Some(name) = &invert
        && !lock.packages.iter().any(|package| package.name == *name)
    {
        miette::bail!(
            help = format!(
                "`--invert` takes the name of a package in `{}`; `lbuild tree` lists them",
                crate::fsutil::relative(&workspace.root, &crate::session::lock_path(&workspace))
            ),
            "`{name}` is not in the lock of this workspace"
        );
    }
    let mut targets = Vec::new();
    for target in &lock.targets {
        if options.target.as_ref().is_some_and(|wanted| *wanted != target.name) {
            continue;
        }
        let groups = target.group_members();
        let trees: BTreeMap<Option<&str>, Tree> =
            groups.iter().map(|(group, _)| (*group, Tree { graph: lock.graph(&target.name, *group) })).collect();
        let roots: Vec<Node> = match &invert {
            None => target
                .members
                .iter()
                .filter(|(member, _)| selected.is_empty() || selected.contains(*member))
                .map(|(member, edges)| {
                    let graph = &trees[&target.group_of(member)];
                    let (kind, name) = split_member(member);
                    let provided = MemberId::from_key(member)
                        .and_then(|member| plan.zip(&member, &target.name))
                        .map(|zip| &zip.provided);
                    let mut down = Down { shown: BTreeSet::new(), provided };
                    let children = edges.iter().map(|edge| graph.down(edge, None, &mut down)).collect();
                    Node { children, ..Node::new(kind, &name) }
                })
                // The generated shared layer is no member of the lock: its packages are its roots.
                .chain(
                    plan.zips
                        .iter()
                        .filter(|zip| zip.target == target.name && zip.member.name == crate::model::SHARED_LAYER)
                        .filter(|zip| zip.member.kind == crate::manifest::MemberKind::Layer)
                        .filter(|zip| selected.is_empty() || selected.contains(&zip.member.key()))
                        .map(|zip| {
                            let graph = &trees[&None];
                            let mut down = Down { shown: BTreeSet::new(), provided: None };
                            let children = zip
                                .packages
                                .iter()
                                .map(|name| Node { requirement: None, ..graph.down(name, None, &mut down) })
                                .collect();
                            Node { children, ..Node::new("layer", crate::model::SHARED_LAYER) }
                        }),
                )
                .collect(),
            // One inverted tree per group that holds the package (each its own version).
            Some(name) => groups
                .iter()
                .flat_map(|(group, members)| {
                    let graph = &trees[group];
                    let edges = members.iter().filter_map(|member| target.members.get_key_value(*member));
                    let dependents = graph.dependents(edges);
                    let mut walk = Walk { path: BTreeSet::new(), shown: BTreeMap::new() };
                    graph
                        .package_node(name, None)
                        .and_then(|root| graph.up(root, None, &dependents, &selected, &mut walk))
                })
                .collect(),
        };
        if !roots.is_empty() {
            targets.push(TargetTree { target: target.name.clone(), roots });
        }
    }
    if let Some(name) = &invert
        && targets.is_empty()
    {
        let on: Vec<String> = lock
            .packages
            .iter()
            .filter(|package| package.name == *name)
            .flat_map(|package| package.targets.iter().map(|target| format!("`{target}`")))
            .collect();
        let scope = if options.packages.is_empty() {
            String::new()
        } else {
            format!(" for {}", options.packages.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", "))
        };
        miette::bail!(
            help = format!("it is locked on {}; check `--target` and `-p`", on.join(", ")),
            "nothing pulls `{name}` in on the chosen targets{scope}"
        );
    }
    Ok(TreeReport { targets })
}

/// `function.api` -> ("function", "api").
fn split_member(key: &str) -> (&'static str, String) {
    match MemberId::from_key(key) {
        Some(member) => (member.kind_str(), member.name),
        None => ("function", key.to_string()),
    }
}

/// Who depends on a package: (dependent kind, dependent name, its requirement, the extra of the
/// dependent that brings the requirement).
type Dependent<'a> = (&'static str, String, &'a str, Option<&'a str>);

/// One target's packages and edges (per extra), as the lock records them.
struct Tree<'a> {
    graph: Graph<'a>,
}

/// The state of one walk down from a member.
struct Down<'p> {
    /// Packages (with the extras they were walked with) already expanded under this root.
    shown: BTreeSet<(String, BTreeSet<String>)>,
    /// What the member's zip leaves out, and who provides it.
    provided: Option<&'p BTreeMap<String, Provided>>,
}

impl<'a> Tree<'a> {
    fn package_node(&self, name: &str, requirement: Option<&str>) -> Option<Node> {
        let (package, entry) = self.graph.node(name)?;
        Some(Node {
            version: Some(package.version.clone()),
            requirement: requirement.map(str::to_string),
            gap: entry.gap.as_ref().map(|gap| gap.reason.clone()),
            path: package.path.clone(),
            ..Node::new("package", name)
        })
    }

    /// The subtree under the edge `requirement`, which comes from `extra` of its parent. The
    /// package's extras that the edge names are followed too.
    fn down(&self, requirement: &str, extra: Option<&str>, walk: &mut Down) -> Node {
        let name = requirement_name(requirement);
        let Some(mut node) = self.package_node(name, Some(requirement)) else {
            // An edge to a package the lock does not have on this target cannot be drawn further.
            return Node { requirement: Some(requirement.to_string()), ..Node::new("package", name) };
        };
        node.extra = extra.map(str::to_string);
        node.provided_by = walk.provided.and_then(|provided| provided.get(name)).map(ToString::to_string);
        let active = self.graph.active_extras(name, requirement_extras(requirement));
        let edges = self.graph.edges(name, &active);
        let key = (name.to_string(), active.iter().map(|extra| extra.to_string()).collect());
        if !walk.shown.insert(key) {
            node.repeated = !edges.is_empty();
            return node;
        }
        node.children = edges.into_iter().map(|(edge, extra)| self.down(edge, extra, walk)).collect();
        node
    }

    /// Who depends on each package, by name, among these members (key -> direct edges) and the
    /// packages of the graph.
    fn dependents(
        &self,
        members: impl Iterator<Item = (&'a String, &'a Vec<String>)>,
    ) -> BTreeMap<&'a str, Vec<Dependent<'a>>> {
        let mut dependents: BTreeMap<&str, Vec<Dependent<'a>>> = BTreeMap::new();
        for (member, edges) in members {
            for edge in edges {
                let (kind, name) = split_member(member);
                dependents.entry(requirement_name(edge)).or_default().push((kind, name, edge, None));
            }
        }
        for name in self.graph.names() {
            let Some((_, entry)) = self.graph.node(name) else { continue };
            let every_extra = entry.extras.keys().map(String::as_str).collect();
            for (edge, extra) in self.graph.edges(name, &every_extra) {
                dependents.entry(requirement_name(edge)).or_default().push(("package", name.to_string(), edge, extra));
            }
        }
        dependents
    }

    /// The inverted subtree above `node`: who requires it, up to the functions and layers.
    /// When `node` was reached through one of its extras (`extra`), only what turns that extra
    /// on is shown above it. With `selected`, only paths that end at one of those members are
    /// kept. A package met again under the same root is shown once more without its subtree
    /// (`repeated`), and so is one that is already on the path (a cycle).
    fn up(
        &self,
        mut node: Node,
        extra: Option<&str>,
        dependents: &BTreeMap<&str, Vec<Dependent<'a>>>,
        selected: &BTreeSet<String>,
        walk: &mut Walk,
    ) -> Option<Node> {
        if node.kind != "package" {
            let key = format!("{}.{}", node.kind, node.name);
            return (selected.is_empty() || selected.contains(&key)).then_some(node);
        }
        let key = (node.name.clone(), extra.map(str::to_string));
        if let Some(kept) = walk.shown.get(&key) {
            node.repeated = true;
            return kept.then_some(node);
        }
        if !walk.path.insert(key.clone()) {
            node.repeated = true;
            return selected.is_empty().then_some(node);
        }
        let mut children = Vec::new();
        for (kind, name, requirement, via) in dependents.get(node.name.as_str()).into_iter().flatten() {
            if let Some(extra) = extra
                && !self.graph.active_extras(&node.name, requirement_extras(requirement)).contains(extra)
            {
                continue;
            }
            let child = if *kind == "package" {
                self.package_node(name, Some(requirement))
            } else {
                Some(Node { requirement: Some(requirement.to_string()), ..Node::new(kind, name) })
            };
            let child = child.map(|child| Node { extra: via.map(str::to_string), ..child });
            if let Some(child) = child.and_then(|child| self.up(child, *via, dependents, selected, walk)) {
                children.push(child);
            }
        }
        walk.path.remove(&key);
        let kept = !children.is_empty() || selected.is_empty();
        walk.shown.insert(key, kept);
        if !kept {
            return None;
        }
        node.children = children;
        Some(node)
    }
}

/// The state of one inverted walk, by package and the extra it was reached through.
struct Walk {
    /// Packages on the path from the root to here.
    path: BTreeSet<(String, Option<String>)>,
    /// Packages already expanded under this root, and whether they led to a selected member.
    shown: BTreeMap<(String, Option<String>), bool>,
}

/// The trees for people, drawn with box characters.
pub fn render(report: &TreeReport, inverted: bool) -> String {
    let mut out = String::new();
    for (index, target) in report.targets.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "{}", target.target);
        for root in &target.roots {
            let _ = writeln!(out, "{}", label(root, inverted));
            draw_children(&mut out, &root.children, "", inverted);
        }
    }
    out
}

fn draw_children(out: &mut String, children: &[Node], prefix: &str, inverted: bool) {
    for (index, child) in children.iter().enumerate() {
        let last = index + 1 == children.len();
        let _ = writeln!(out, "{prefix}{}{}", if last { "└── " } else { "├── " }, label(child, inverted));
        let deeper = format!("{prefix}{}", if last { "    " } else { "│   " });
        draw_children(out, &child.children, &deeper, inverted);
    }
}

fn label(node: &Node, inverted: bool) -> String {
    let mut text = match &node.version {
        Some(version) => format!("{} v{version}", node.name),
        None if node.kind == "package" => format!("{} (not locked for this target)", node.name),
        None => format!("{} {}", node.kind, node.name),
    };
    if let Some(requirement) = &node.requirement {
        if inverted {
            let _ = write!(text, " [requires: {requirement}]");
        } else {
            let spec = &requirement[requirement_name(requirement).len()..];
            let _ = write!(text, " [required: {}]", if spec.is_empty() { "*" } else { spec });
        }
    }
    if let Some(extra) = &node.extra {
        let _ = write!(text, " (extra {extra})");
    }
    if let Some(gap) = &node.gap {
        let _ = write!(text, " (gap: {gap})");
    }
    if let Some(path) = &node.path {
        let _ = write!(text, " (local: {path})");
    }
    if let Some(provider) = &node.provided_by {
        let _ = write!(text, " (provided by {provider})");
    }
    if node.repeated {
        text.push_str(" (*)");
    }
    text
}

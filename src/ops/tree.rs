//! `lbuild tree`: the resolved dependency tree of each function and layer, per target, from
//! the lock; `--invert PACKAGE` turns it upside down to answer "why is this package here".
//!
//! Each edge carries the requirement that made it (markers already evaluated for the target),
//! so the tree shows not only what is installed but what asked for it. A package whose subtree
//! was already shown under the same root is printed once more, marked `(*)`, without children.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use serde::Serialize;

use super::GlobalOptions;
use crate::lockfile::{Lock, requirement_name};
use crate::manifest::MemberId;
use crate::python::wheel_name::normalize_name;

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
    /// The gap reason when the package has no usable wheel on this target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gap: Option<String>,
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
            gap: None,
            repeated: false,
            children: Vec::new(),
        }
    }
}

/// Run `lbuild tree`.
pub fn tree(options: &TreeOptions) -> miette::Result<TreeReport> {
    let (workspace, lock) = options.global.locked_workspace()?;
    let selected = super::selection(&workspace, &lock, &options.packages, options.target.as_deref())?;
    let invert = options.invert.as_deref().map(normalize_name);
    if let Some(name) = &invert
        && !lock.packages.iter().any(|package| package.name == *name)
    {
        miette::bail!(
            help = "`--invert` takes the name of a package in lambda.lock; `lbuild tree` lists them",
            "`{name}` is not in the lock of this workspace"
        );
    }
    let mut targets = Vec::new();
    for target in &lock.targets {
        if options.target.as_ref().is_some_and(|wanted| *wanted != target.name) {
            continue;
        }
        let graph = Graph::new(&lock, &target.name);
        let roots: Vec<Node> = match &invert {
            None => target
                .members
                .iter()
                .filter(|(member, _)| selected.is_empty() || selected.contains(*member))
                .map(|(member, edges)| {
                    let (kind, name) = split_member(member);
                    let mut shown = BTreeSet::new();
                    let children = edges.iter().map(|edge| graph.down(edge, &mut shown)).collect();
                    Node { children, ..Node::new(kind, &name) }
                })
                .collect(),
            Some(name) => {
                let dependents = graph.dependents(target);
                let mut walk = Walk { path: BTreeSet::new(), shown: BTreeMap::new() };
                graph
                    .package_node(name, None)
                    .map(|root| graph.up(root, &dependents, &selected, &mut walk))
                    .into_iter()
                    .flatten()
                    .collect()
            }
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

/// One target's packages and edges.
struct Graph<'a> {
    /// name -> (version, gap reason, dependency edges).
    packages: BTreeMap<&'a str, (&'a str, Option<&'a str>, &'a [String])>,
}

impl<'a> Graph<'a> {
    fn new(lock: &'a Lock, target: &str) -> Graph<'a> {
        let mut packages = BTreeMap::new();
        for package in &lock.packages {
            for entry in package.per_target.iter().filter(|entry| entry.target == target) {
                let gap = entry.gap.as_ref().map(|gap| gap.reason.as_str());
                packages.insert(package.name.as_str(), (package.version.as_str(), gap, entry.dependencies.as_slice()));
            }
        }
        Graph { packages }
    }

    fn package_node(&self, name: &str, requirement: Option<&str>) -> Option<Node> {
        let (version, gap, _) = self.packages.get(name)?;
        Some(Node {
            version: Some(version.to_string()),
            requirement: requirement.map(str::to_string),
            gap: gap.map(str::to_string),
            ..Node::new("package", name)
        })
    }

    /// The subtree under the edge `requirement`.
    fn down(&self, requirement: &str, shown: &mut BTreeSet<String>) -> Node {
        let name = requirement_name(requirement);
        let Some(mut node) = self.package_node(name, Some(requirement)) else {
            // An edge to a package the lock does not have on this target cannot be drawn further.
            return Node { requirement: Some(requirement.to_string()), ..Node::new("package", name) };
        };
        if !shown.insert(name.to_string()) {
            node.repeated = !self.packages[name].2.is_empty();
            return node;
        }
        node.children = self.packages[name].2.iter().map(|edge| self.down(edge, shown)).collect();
        node
    }

    /// Who depends on each package: name -> [(dependent kind, dependent name, its requirement)].
    fn dependents(
        &self,
        target: &'a crate::lockfile::LockedTarget,
    ) -> BTreeMap<&'a str, Vec<(&'static str, String, &'a str)>> {
        let mut dependents: BTreeMap<&str, Vec<(&'static str, String, &str)>> = BTreeMap::new();
        for (member, edges) in &target.members {
            for edge in edges {
                let (kind, name) = split_member(member);
                dependents.entry(requirement_name(edge)).or_default().push((kind, name, edge));
            }
        }
        for (name, (_, _, edges)) in &self.packages {
            for edge in edges.iter() {
                dependents.entry(requirement_name(edge)).or_default().push(("package", name.to_string(), edge));
            }
        }
        dependents
    }

    /// The inverted subtree above `node`: who requires it, up to the functions and layers.
    /// With `selected`, only paths that end at one of those members are kept. A package met
    /// again under the same root is shown once more without its subtree (`repeated`), and so is
    /// one that is already on the path (a cycle).
    fn up(
        &self,
        mut node: Node,
        dependents: &BTreeMap<&str, Vec<(&'static str, String, &str)>>,
        selected: &BTreeSet<String>,
        walk: &mut Walk,
    ) -> Option<Node> {
        if node.kind != "package" {
            let key = format!("{}.{}", node.kind, node.name);
            return (selected.is_empty() || selected.contains(&key)).then_some(node);
        }
        if let Some(kept) = walk.shown.get(&node.name) {
            node.repeated = true;
            return kept.then_some(node);
        }
        if !walk.path.insert(node.name.clone()) {
            node.repeated = true;
            return selected.is_empty().then_some(node);
        }
        let mut children = Vec::new();
        for (kind, name, requirement) in dependents.get(node.name.as_str()).into_iter().flatten() {
            let child = if *kind == "package" {
                self.package_node(name, Some(requirement))
            } else {
                Some(Node { requirement: Some(requirement.to_string()), ..Node::new(kind, name) })
            };
            if let Some(child) = child.and_then(|child| self.up(child, dependents, selected, walk)) {
                children.push(child);
            }
        }
        walk.path.remove(&node.name);
        let kept = !children.is_empty() || selected.is_empty();
        walk.shown.insert(node.name.clone(), kept);
        if !kept {
            return None;
        }
        node.children = children;
        Some(node)
    }
}

/// The state of one inverted walk.
struct Walk {
    /// Packages on the path from the root to here.
    path: BTreeSet<String>,
    /// Packages already expanded under this root, and whether they led to a selected member.
    shown: BTreeMap<String, bool>,
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
    if let Some(gap) = &node.gap {
        let _ = write!(text, " (gap: {gap})");
    }
    if node.repeated {
        text.push_str(" (*)");
    }
    text
}

//! Conflict explanations in the workspace's terms.
//!
//! PubGrub's default formatter prints every package with its version range. lbuild's problem has
//! virtual packages (the workspace root and one per function or layer, all at version 0), so this
//! formatter prints those without a version and phrases their terms as what they are: a function
//! that requires something, two functions that cannot be deployed on the same target together.

use pubgrub::{DerivationTree, Derived, External, Map, Ranges, ReportFormatter, Term};

use super::Pkg;
use super::specifiers::show;
use pep440_rs::Version;

type Range = Ranges<Version>;

pub(super) struct Explain;

fn is_virtual(package: &Pkg) -> bool {
    matches!(package, Pkg::Root | Pkg::Member(_) | Pkg::Constraint(..))
}

/// `shared >=2`, `shared` (any version), or `function `api`` (virtual).
fn term(package: &Pkg, range: &Range) -> String {
    if is_virtual(package) || range == &Range::full() {
        package.to_string()
    } else if let Some(version) = range.as_singleton() {
        format!("{package} {version}")
    } else {
        format!("{package} {}", show(range))
    }
}

impl ReportFormatter<Pkg, Range, String> for Explain {
    type Output = String;

    fn format_external(&self, external: &External<Pkg, Range, String>) -> String {
        match external {
            External::NotRoot(package, _) => format!("we are resolving {package}"),
            External::NoVersions(package, range) => {
                if range == &Range::full() {
                    format!("no version of {package} fits the target")
                } else {
                    format!("no version of {package} in {} fits the target", show(range))
                }
            }
            // Reasons are phrased to follow the package and version: `a 2.0 declares ...`.
            External::Custom(package, range, reason) => match range.as_singleton() {
                Some(version) => format!("{package} {version} {reason}"),
                None => format!("{} {reason}", term(package, range)),
            },
            External::FromDependencyOf(package, range, dependency @ Pkg::Constraint(..), _) => {
                format!("{dependency} applies to what {} requires", term(package, range))
            }
            External::FromDependencyOf(package, range, dependency, dependency_range) => {
                let verb = match package {
                    Pkg::Constraint(..) => "allows only",
                    _ if is_virtual(package) => "requires",
                    _ => "depends on",
                };
                let who = if matches!(package, Pkg::Root) {
                    "the workspace includes".to_string()
                } else {
                    format!("{} {verb}", term(package, range))
                };
                format!("{who} {}", term(dependency, dependency_range))
            }
        }
    }

    fn format_terms(&self, terms: &Map<Pkg, Term<Range>>) -> String {
        let mut terms: Vec<_> = terms.iter().collect();
        terms.sort_by_key(|(package, _)| package.to_string());
        match terms.as_slice() {
            [] => "no solution exists".into(),
            [(Pkg::Root, _)] => "the workspace cannot be resolved".into(),
            [(package, Term::Positive(range))] => format!("{} cannot be used", term(package, range)),
            [(package, Term::Negative(range))] => format!("{} is required", term(package, range)),
            [(p1, Term::Positive(r1)), (p2, Term::Negative(r2))] => {
                self.format_external(&External::FromDependencyOf((*p1).clone(), r1.clone(), (*p2).clone(), r2.clone()))
            }
            [(p1, Term::Negative(r1)), (p2, Term::Positive(r2))] => {
                self.format_external(&External::FromDependencyOf((*p2).clone(), r2.clone(), (*p1).clone(), r1.clone()))
            }
            slice => {
                let parts: Vec<String> = slice
                    .iter()
                    .map(|(package, t)| match t {
                        Term::Positive(range) => term(package, range),
                        Term::Negative(range) => format!("not {}", term(package, range)),
                    })
                    .collect();
                format!("{} cannot be used together", parts.join(" and "))
            }
        }
    }

    fn explain_both_external(
        &self,
        external1: &External<Pkg, Range, String>,
        external2: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} and {}, {}.",
            self.format_external(external1),
            self.format_external(external2),
            self.format_terms(current_terms)
        )
    }

    fn explain_both_ref(
        &self,
        ref_id1: usize,
        derived1: &Derived<Pkg, Range, String>,
        ref_id2: usize,
        derived2: &Derived<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id1}) and {} ({ref_id2}), {}.",
            self.format_terms(&derived1.terms),
            self.format_terms(&derived2.terms),
            self.format_terms(current_terms)
        )
    }

    fn explain_ref_and_external(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Range, String>,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "Because {} ({ref_id}) and {}, {}.",
            self.format_terms(&derived.terms),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }

    fn and_explain_external(
        &self,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!("And because {}, {}.", self.format_external(external), self.format_terms(current_terms))
    }

    fn and_explain_ref(
        &self,
        ref_id: usize,
        derived: &Derived<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!("And because {} ({ref_id}), {}.", self.format_terms(&derived.terms), self.format_terms(current_terms))
    }

    fn and_explain_prior_and_external(
        &self,
        prior_external: &External<Pkg, Range, String>,
        external: &External<Pkg, Range, String>,
        current_terms: &Map<Pkg, Term<Range>>,
    ) -> String {
        format!(
            "And because {} and {}, {}.",
            self.format_external(prior_external),
            self.format_external(external),
            self.format_terms(current_terms)
        )
    }
}

/// Render a derivation tree.
pub(super) fn explain(tree: &DerivationTree<Pkg, Range, String>) -> String {
    use pubgrub::{DefaultStringReporter, Reporter};
    DefaultStringReporter::report_with_formatter(tree, &Explain)
}

/// Every (package, range) that had no version, from the tree before collapsing.
pub(super) fn no_versions(tree: &DerivationTree<Pkg, Range, String>, out: &mut Vec<(String, Range)>) {
    match tree {
        DerivationTree::External(External::NoVersions(Pkg::Dist(name) | Pkg::Extra(name, _), range)) => {
            if !out.iter().any(|(seen, seen_range)| seen == name && seen_range == range) {
                out.push((name.clone(), range.clone()));
            }
        }
        DerivationTree::External(_) => {}
        DerivationTree::Derived(derived) => {
            no_versions(&derived.cause1, out);
            no_versions(&derived.cause2, out);
        }
    }
}

//! Known replacements for packages that are often vendoring gaps: a maintained package that
//! publishes manylinux wheels for both Lambda machines and does the same job. The table is
//! small and documented in docs/guide/gaps.md; each entry was checked against the projects'
//! own documentation.

/// A package to use instead of a gap, and why it fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Replacement {
    /// The requirement to write instead, e.g. `psycopg2-binary`.
    pub package: &'static str,
    pub why: &'static str,
}

const TABLE: &[(&str, &[Replacement])] = &[
    (
        "psycopg2",
        &[
            Replacement {
                package: "psycopg2-binary",
                why: "the same module (`import psycopg2`), with wheels for x86_64 and arm64",
            },
            Replacement { package: "psycopg[binary]", why: "psycopg 3 (`import psycopg`), a new API, with wheels" },
        ],
    ),
    ("pycrypto", &[Replacement { package: "pycryptodome", why: "a maintained fork that keeps the `Crypto` package" }]),
    (
        "mysqlclient",
        &[Replacement {
            package: "PyMySQL",
            why: "pure Python; `pymysql.install_as_MySQLdb()` keeps `import MySQLdb` working",
        }],
    ),
];

/// The known replacements for `name` (a normalized package name), best first.
pub(crate) fn replacements(name: &str) -> &'static [Replacement] {
    TABLE.iter().find(|(package, _)| *package == name).map_or(&[], |(_, replacements)| replacements)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn psycopg2_has_two_replacements_best_first() {
        let names: Vec<&str> = replacements("psycopg2").iter().map(|r| r.package).collect();
        assert_eq!(names, ["psycopg2-binary", "psycopg[binary]"]);
        assert!(replacements("requests").is_empty());
        // Table keys are normalized names, so lookups by normalized name find them.
        for (package, _) in TABLE {
            assert_eq!(*package, package.to_lowercase().replace(['_', '.'], "-"));
        }
    }
}

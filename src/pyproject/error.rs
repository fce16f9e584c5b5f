//! Errors about a local project's `pyproject.toml`: at a key (a span error that quotes one line
//! at most, the same renderer `lambda.toml` errors use) or about the project as a whole.

use std::ops::Range;
use std::path::Path;

use miette::Diagnostic;
use thiserror::Error;

use crate::manifest::ManifestError;
use crate::output::cap_quotes;

/// Why lbuild cannot read a local project or decide what its wheel holds.
#[derive(Debug, Error, Diagnostic)]
pub(crate) enum ProjectError {
    /// An error at a key or value of `pyproject.toml`.
    #[error(transparent)]
    #[diagnostic(transparent)]
    At(Box<ManifestError>),
    /// An error about the project or one of its files, with no line to point at.
    #[error("{message}")]
    Project {
        message: String,
        #[help]
        help: Option<String>,
    },
}

impl ProjectError {
    /// An error at `span` of `text`, the contents of the `pyproject.toml` at `path`.
    pub(crate) fn at(
        path: &Path,
        text: &str,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ProjectError {
        ProjectError::At(Box::new(ManifestError::at(&path.display().to_string(), text, span, message, label, help)))
    }

    /// An error with no span.
    pub(crate) fn project(message: String, help: Option<String>) -> ProjectError {
        ProjectError::Project { message: cap_quotes(&message), help: help.map(|help| cap_quotes(&help)) }
    }

    /// The message, as shown.
    #[cfg(test)]
    pub(crate) fn message(&self) -> String {
        match self {
            ProjectError::At(error) => error.message().to_string(),
            ProjectError::Project { message, .. } => message.clone(),
        }
    }

    /// The help line, if any.
    #[cfg(test)]
    pub(crate) fn help_text(&self) -> Option<String> {
        match self {
            ProjectError::At(error) => error.help_text().map(str::to_string),
            ProjectError::Project { help, .. } => help.clone(),
        }
    }

    /// The text the span covers, for errors with one.
    #[cfg(test)]
    pub(crate) fn spanned_text(&self) -> Option<String> {
        match self {
            ProjectError::At(error) => Some(error.spanned_text().to_string()),
            ProjectError::Project { .. } => None,
        }
    }
}

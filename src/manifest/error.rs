//! Errors about `lambda.toml` and the files it names: a span error that quotes one line at most
//! (and never a password), and the error about the manifest file as a whole.

use std::ops::Range;
use std::sync::Arc;

use miette::{Diagnostic, NamedSource, SourceSpan};
use thiserror::Error;

use crate::output::{QUOTE_LIMIT, cap_quotes};

/// An error in `lambda.toml` or a file it names, pointing at the offending text.
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct ManifestError {
    message: String,
    #[source_code]
    source_code: NamedSource<Arc<String>>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
}

impl ManifestError {
    /// An error at `span` of `text`, the contents of the file `name`. Whatever the file holds,
    /// the error shows at most one line of it, cut to about [`QUOTE_LIMIT`] characters around
    /// the span (the snippet keeps the real line number), and every quoted value in `message`,
    /// `label` and `help` is cut the same way: a 20 MB string or `/proc/self/environ` is never
    /// echoed whole.
    pub(crate) fn at(
        name: &str,
        text: &str,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ManifestError {
        let (source, span) = excerpt(text, span, None);
        ManifestError::from_excerpt(name, source, span, message, label, help)
    }

    /// [`ManifestError::at`] for a span that holds a URL: the snippet shows `shown` (the
    /// redacted URL) in its place, so credentials in `lambda.toml` never reach a log.
    pub(super) fn at_secret(
        ctx: &Context,
        span: Range<usize>,
        shown: &str,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ManifestError {
        let (source, span) = excerpt(&ctx.source, span, Some(shown));
        ManifestError::from_excerpt(&ctx.name, source, span, message, label, help)
    }

    fn from_excerpt(
        name: &str,
        source: String,
        span: Range<usize>,
        message: String,
        label: &str,
        help: Option<String>,
    ) -> ManifestError {
        ManifestError {
            message: cap_quotes(&message),
            source_code: NamedSource::new(name, Arc::new(source)),
            span: span.into(),
            label: cap_quotes(label),
            help: help.map(|help| cap_quotes(&help)),
        }
    }

    /// The message, as shown.
    #[cfg(test)]
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The source snippet the error carries.
    #[cfg(test)]
    pub(crate) fn snippet(&self) -> &str {
        self.source_code.inner()
    }

    /// The name of the file the snippet is from.
    #[cfg(test)]
    pub(crate) fn source_name(&self) -> &str {
        self.source_code.name()
    }

    /// The label at the span.
    #[cfg(test)]
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// The text of the snippet the span covers.
    #[cfg(test)]
    pub(crate) fn spanned_text(&self) -> &str {
        let start = self.span.offset();
        &self.source_code.inner()[start..start + self.span.len()]
    }

    /// The help line, if any.
    #[cfg(test)]
    pub(crate) fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }
}

/// `lambda.toml`'s text and its name, for building span errors.
#[derive(Clone)]
pub(super) struct Context {
    pub source: Arc<String>,
    pub name: String,
}

impl Context {
    pub fn error(&self, message: String, span: Range<usize>, label: &str, help: Option<String>) -> ManifestError {
        ManifestError::at(&self.name, &self.source, span, message, label, help)
    }
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let offset = floor_boundary(text, offset.min(text.len()));
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

fn floor_boundary(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// A source that holds only the line of `span` (cut to about [`QUOTE_LIMIT`] characters around
/// the span's start), placed after as many empty lines as precede it, and the span moved into it.
/// With `replacement`, the span's text is replaced by it.
fn excerpt(text: &str, span: Range<usize>, replacement: Option<&str>) -> (String, Range<usize>) {
    let start = floor_boundary(text, span.start.min(text.len()));
    let end = floor_boundary(text, span.end.clamp(start, text.len()));
    let line_start = text[..start].rfind('\n').map_or(0, |at| at + 1);
    let line_end = text[start..].find('\n').map_or(text.len(), |at| start + at);
    let line_end = if text[..line_end].ends_with('\r') { line_end - 1 } else { line_end }.max(start);
    let padding = line_of(text, start) - 1;
    // Up to a quarter of the limit before the span, the rest after it.
    let before =
        text[line_start..start].char_indices().rev().nth(QUOTE_LIMIT / 4).map_or(line_start, |(at, _)| line_start + at);
    let after = text[start..line_end].char_indices().nth(QUOTE_LIMIT).map_or(line_end, |(at, _)| start + at);
    let mut source = "\n".repeat(padding);
    if before > line_start {
        source.push('…');
    }
    let new_start = source.len() + (start - before);
    if let Some(replacement) = replacement {
        let end = end.min(line_end);
        source.push_str(&text[before..start]);
        source.push_str(replacement);
        let new_end = source.len();
        let rest = &text[end..line_end];
        let cut = rest.char_indices().nth(QUOTE_LIMIT / 4).map_or(rest.len(), |(at, _)| at);
        source.push_str(&rest[..cut]);
        if cut < rest.len() {
            source.push('…');
        }
        return (source, new_start..new_end);
    }
    source.push_str(&text[before..after]);
    if after < line_end {
        source.push('…');
    }
    let new_end = new_start + (end.min(after) - start);
    (source, new_start..new_end)
}

/// An error about the manifest as a whole (not found, unreadable).
#[derive(Debug, Error, Diagnostic)]
#[error("{message}")]
pub struct ManifestFileError {
    message: String,
    #[help]
    help: Option<String>,
}

impl ManifestFileError {
    pub(super) fn new(message: String, help: &str) -> ManifestFileError {
        ManifestFileError { message, help: Some(help.to_string()) }
    }
}

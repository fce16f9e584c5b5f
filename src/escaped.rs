//! An error as lbuild prints it: a copy of a diagnostic whose every text (message, help,
//! labels, causes, related errors, source snippet) has its control characters escaped, so that
//! miette can add its colours to text that can no longer drive the terminal.

use std::fmt;

use miette::{
    Diagnostic, LabeledSpan, MietteError, MietteSpanContents, Severity, SourceCode, SourceSpan, SpanContents,
};

/// An escaped copy of a diagnostic that borrows the original's source code. It is rendered with
/// [`render`], since `miette::Report` only holds `'static` diagnostics.
pub struct Escaped<'a> {
    message: String,
    help: Option<String>,
    code: Option<String>,
    url: Option<String>,
    severity: Option<Severity>,
    labels: Vec<LabeledSpan>,
    source_code: Option<EscapedSource<'a>>,
    related: Vec<Escaped<'a>>,
    cause: Option<Box<Cause>>,
}

fn text(value: impl fmt::Display) -> String {
    lbuild::escape_controls(&value.to_string()).into_owned()
}

impl<'a> Escaped<'a> {
    pub fn of(diagnostic: &'a dyn Diagnostic) -> Escaped<'a> {
        let labels = diagnostic
            .labels()
            .map(|labels| {
                labels
                    .map(|label| {
                        let shown = label.label().map(text);
                        if label.primary() {
                            LabeledSpan::new_primary_with_span(shown, *label.inner())
                        } else {
                            LabeledSpan::new_with_span(shown, *label.inner())
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut cause = None;
        let mut chain = Vec::new();
        let mut source = diagnostic.source();
        while let Some(error) = source {
            chain.push(text(error));
            source = error.source();
        }
        for message in chain.into_iter().rev() {
            cause = Some(Box::new(Cause { message, source: cause }));
        }
        Escaped {
            message: text(diagnostic),
            help: diagnostic.help().map(text),
            code: diagnostic.code().map(text),
            url: diagnostic.url().map(text),
            severity: diagnostic.severity(),
            labels,
            source_code: diagnostic.source_code().map(|inner| EscapedSource { inner }),
            related: diagnostic.related().map(|related| related.map(Escaped::of).collect()).unwrap_or_default(),
            cause,
        }
    }
}

/// A cause in the `source()` chain, as text.
#[derive(Debug)]
struct Cause {
    message: String,
    source: Option<Box<Cause>>,
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

/// A source whose snippets have their control characters masked (same length, so spans stay
/// valid).
struct EscapedSource<'a> {
    inner: &'a dyn SourceCode,
}

impl SourceCode for EscapedSource<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let contents = self.inner.read_span(span, context_lines_before, context_lines_after)?;
        let data = String::from_utf8_lossy(contents.data());
        // miette borrows the bytes for as long as the source; the process prints one error and
        // exits, so the few masked snippets are leaked rather than cached.
        let masked: &'b [u8] = Box::leak(lbuild::mask_controls(&data).into_owned().into_bytes().into_boxed_slice());
        let name = contents.name().map(text);
        Ok(Box::new(match name {
            Some(name) => MietteSpanContents::new_named(
                name,
                masked,
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            ),
            None => MietteSpanContents::new(
                masked,
                *contents.span(),
                contents.line(),
                contents.column(),
                contents.line_count(),
            ),
        }))
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Escaped<'_> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_deref().map(|cause| cause as &(dyn std::error::Error + 'static))
    }
}

impl Diagnostic for Escaped<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.code.as_ref().map(|code| Box::new(code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<Severity> {
        self.severity
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.url.as_ref().map(|url| Box::new(url) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source_code.as_ref().map(|source| source as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().cloned()))
    }

    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|related| related as &dyn Diagnostic)))
    }
}

/// `diagnostic` rendered by `handler`, as `{:?}` of a report would be.
pub fn render(handler: &miette::MietteHandler, diagnostic: &dyn Diagnostic) -> String {
    struct Shown<'a>(&'a miette::MietteHandler, &'a dyn Diagnostic);
    impl fmt::Display for Shown<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            miette::ReportHandler::debug(self.0, self.1, f)
        }
    }
    Shown(handler, diagnostic).to_string()
}

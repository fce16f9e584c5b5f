//! Messages for people: warnings, status lines and progress bars go to stderr, data to stdout.
//!
//! One place decides how much is said (`-q`, `-v`), whether it is coloured (`--color`,
//! `NO_COLOR`) and whether progress bars are drawn (only on a terminal). Every line goes through
//! [`emit`], which draws it above any progress bar instead of through it.
//!
//! Messages quote untrusted text (names and file names from an index, keys and values of
//! `lambda.toml`, lines of files), so [`emit`] escapes control characters in the message
//! before lbuild's own colours are added: no index or manifest can move the cursor, retitle the
//! terminal or hide text. [`shorten`] caps a quoted value so that a 20 MB string is not echoed.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How much lbuild says on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    Quiet = 0,
    Normal = 1,
    Verbose = 2,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorChoice {
    /// Colour when stderr is a terminal and `NO_COLOR` is unset or empty.
    #[default]
    Auto,
    Always,
    Never,
}

static VERBOSITY: AtomicU8 = AtomicU8::new(Verbosity::Normal as u8);
static COLOR: AtomicBool = AtomicBool::new(false);
static BARS: AtomicBool = AtomicBool::new(false);
static MULTI: OnceLock<MultiProgress> = OnceLock::new();
/// Serialises lines from several threads so they never interleave mid-line.
static LINES: Mutex<()> = Mutex::new(());
/// Every warning said (or that `-q` kept from being said) outside [`quietly`], for the JSON
/// document.
static WARNINGS: Mutex<Vec<String>> = Mutex::new(Vec::new());
/// Set inside [`quietly`]: what is not said there is not recorded either.
static SILENCED: AtomicBool = AtomicBool::new(false);

pub fn set_verbosity(verbosity: Verbosity) {
    VERBOSITY.store(verbosity as u8, Ordering::Relaxed);
}

/// Decide colour and progress bars for this process; returns whether stderr is coloured.
pub fn configure(verbosity: Verbosity, color: ColorChoice) -> bool {
    set_verbosity(verbosity);
    let terminal = std::io::stderr().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
    let dumb = std::env::var("TERM").is_ok_and(|term| term == "dumb");
    let colored = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && !no_color && !dumb,
    };
    COLOR.store(colored, Ordering::Relaxed);
    BARS.store(terminal && !dumb && verbosity >= Verbosity::Normal, Ordering::Relaxed);
    colored
}

/// Run `work` saying nothing but errors (a load or lock whose warnings were said already).
pub(crate) fn quietly<T>(work: impl FnOnce() -> T) -> T {
    struct Restore(u8, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            VERBOSITY.store(self.0, Ordering::Relaxed);
            SILENCED.store(self.1, Ordering::Relaxed);
        }
    }
    let _restore =
        Restore(VERBOSITY.swap(Verbosity::Quiet as u8, Ordering::Relaxed), SILENCED.swap(true, Ordering::Relaxed));
    work()
}

/// Remember a warning for the JSON document (see [`take_warnings`]).
pub(crate) fn record_warning(message: &str) {
    if !SILENCED.load(Ordering::Relaxed) {
        WARNINGS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(message.to_string());
    }
}

/// The warnings this process has given so far, in order, each once, and forget them.
pub fn take_warnings() -> Vec<String> {
    let mut warnings = std::mem::take(&mut *WARNINGS.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let mut seen = std::collections::HashSet::new();
    warnings.retain(|warning| seen.insert(warning.clone()));
    warnings
}

pub(crate) fn verbosity() -> Verbosity {
    match VERBOSITY.load(Ordering::Relaxed) {
        0 => Verbosity::Quiet,
        1 => Verbosity::Normal,
        _ => Verbosity::Verbose,
    }
}

/// Styles for the few coloured words lbuild prints.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Style {
    /// Status verbs (`Locked`, `Built`).
    Status,
    /// `warning:`
    Warning,
}

/// `text` in `style` when colour is on.
pub(crate) fn paint(text: &str, style: Style) -> String {
    if !COLOR.load(Ordering::Relaxed) {
        return text.to_string();
    }
    let code = match style {
        Style::Status => "1;32",
        Style::Warning => "1;33",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

/// A progress template with its colours, or without them when colour is off.
fn styled(template: &str) -> String {
    if COLOR.load(Ordering::Relaxed) {
        return template.to_string();
    }
    template.replace(".cyan.bold}", "}").replace(":.cyan}", "}").replace(":.dim}", "}")
}

/// `12.3 MB` (MiB, as Lambda's limits are given).
pub(crate) fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// `1 zip`, `2 zips`.
pub(crate) fn count(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// Whether a character must not reach a terminal as it is: C0 and C1 controls and DEL (but
/// newline and tab), and the bidirectional overrides that reorder what is shown.
fn is_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// A name (a file, a package) as a message quotes it: every control character, newlines and
/// tabs included (`\t`, `\u{1b}`), and every bidirectional override (`\u{202e}`) written as a
/// Rust escape, so a name is always one visible line.
pub(crate) fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if is_unsafe(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// `text` with every unsafe character written as a Rust escape (`\u{1b}`).
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `text` with every unsafe character replaced by as many `?` as it has bytes, so that byte
/// offsets into it (miette's spans) stay valid. A `\r` before `\n` is kept.
pub fn mask_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            out.push(c);
        } else if is_unsafe(c) {
            out.extend(std::iter::repeat_n('?', c.len_utf8()));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The longest quoted value a message shows, in characters.
pub(crate) const QUOTE_LIMIT: usize = 200;

/// `text` cut to [`QUOTE_LIMIT`] characters, with `…` and the full length when cut.
pub(crate) fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(QUOTE_LIMIT) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}… ({} bytes in all)", &text[..end], text.len())),
    }
}

/// `message` with every `quoted` value cut to [`QUOTE_LIMIT`] characters, and any other stretch
/// of text cut at five times that (messages of other parsers may quote values without backticks).
pub(crate) fn cap_quotes(message: &str) -> String {
    cap_quotes_at(message, QUOTE_LIMIT)
}

/// [`cap_quotes`] with another limit (URLs in index errors may be long, and stay whole up to it).
pub(crate) fn cap_quotes_at(message: &str, limit: usize) -> String {
    let mut out = String::with_capacity(message.len().min(4 * limit));
    for (index, part) in message.split('`').enumerate() {
        if index > 0 {
            out.push('`');
        }
        let keep = if index % 2 == 1 { limit } else { 5 * limit };
        match part.char_indices().nth(keep) {
            Some((cut, _)) if index % 2 == 1 => {
                out.push_str(&format!("{}… ({} bytes in all)", &part[..cut], part.len()));
            }
            Some((cut, _)) => {
                out.push_str(&part[..cut]);
                out.push('…');
            }
            None => out.push_str(part),
        }
    }
    out
}

/// Write one message to stderr, above any progress bar; `prefix` is lbuild's own (it may be
/// coloured), `message` is escaped.
pub(crate) fn emit_with(prefix: Option<&str>, message: std::fmt::Arguments<'_>) {
    let text = message.to_string();
    let text = escape_controls(&text);
    let line = match prefix {
        Some(prefix) => format!("{prefix} {text}"),
        None => text.into_owned(),
    };
    let _guard = LINES.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match MULTI.get() {
        Some(multi) => multi.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// Write one message to stderr, above any progress bar, with control characters escaped.
pub(crate) fn emit(message: std::fmt::Arguments<'_>) {
    emit_with(None, message);
}

/// A progress bar or spinner on stderr; does nothing when bars are off (not a terminal, `-q`).
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    fn new(bar: impl FnOnce() -> ProgressBar) -> Progress {
        if !BARS.load(Ordering::Relaxed) {
            return Progress(None);
        }
        let multi = MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        let bar = multi.add(bar());
        bar.enable_steady_tick(Duration::from_millis(100));
        Progress(Some(bar))
    }

    /// A spinner with a message, for work of unknown length.
    pub fn spinner(message: impl Into<String>) -> Progress {
        let message = escape_controls(&message.into()).into_owned();
        Progress::new(|| {
            ProgressBar::new_spinner()
                .with_style(
                    ProgressStyle::with_template(&styled("{spinner:.cyan} {msg} {elapsed:.dim}")).expect("valid"),
                )
                .with_message(message)
        })
    }

    /// A bar over `total` items (or bytes, with `bytes`).
    pub fn bar(prefix: &str, total: u64, bytes: bool) -> Progress {
        let template = styled(if bytes {
            "{prefix:>12.cyan.bold} [{bar:30}] {bytes}/{total_bytes} {msg}"
        } else {
            "{prefix:>12.cyan.bold} [{bar:30}] {pos}/{len} {msg}"
        });
        let prefix = prefix.to_string();
        Progress::new(|| {
            ProgressBar::new(total)
                .with_style(ProgressStyle::with_template(&template).expect("valid").progress_chars("=> "))
                .with_prefix(prefix)
        })
    }

    /// Whether a bar is drawn (a terminal, not `-q`); polling for it is wasted otherwise.
    pub fn is_drawn(&self) -> bool {
        self.0.is_some()
    }

    pub fn inc(&self, delta: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(delta);
        }
    }

    pub fn set_message(&self, message: impl Into<String>) {
        if let Some(bar) = &self.0 {
            bar.set_message(escape_controls(&message.into()).into_owned());
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.0.take() {
            bar.finish_and_clear();
            if let Some(multi) = MULTI.get() {
                multi.remove(&bar);
            }
        }
    }
}

/// A warning: shown unless `-q`.
macro_rules! warn_user {
    ($($arg:tt)*) => {{
        let message = format!($($arg)*);
        $crate::output::record_warning(&message);
        if $crate::output::verbosity() >= $crate::output::Verbosity::Normal {
            $crate::output::emit_with(
                Some(&$crate::output::paint("warning:", $crate::output::Style::Warning)),
                format_args!("{message}"),
            );
        }
    }};
}

/// A status line such as `Locked 12 packages`: shown unless `-q`.
macro_rules! status {
    ($verb:expr, $($arg:tt)*) => {
        if $crate::output::verbosity() >= $crate::output::Verbosity::Normal {
            $crate::output::emit_with(
                Some(&$crate::output::paint(&format!("{:>12}", $verb), $crate::output::Style::Status)),
                format_args!($($arg)*),
            );
        }
    };
}

/// Detail for `-v`.
macro_rules! debug {
    ($($arg:tt)*) => {
        if $crate::output::verbosity() >= $crate::output::Verbosity::Verbose {
            $crate::output::emit(format_args!($($arg)*));
        }
    };
}

pub(crate) use {debug, status, warn_user};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_or_masked_but_newlines_and_tabs_stay() {
        let hostile = "pkg\x1b]0;owned\x07\x1b[2J\u{9b}31m\u{202e}txt.exe\tok\nnext\r\n";
        let escaped = escape_controls(hostile);
        assert!(!escaped.chars().any(|c| c.is_control() && c != '\n' && c != '\t'), "{escaped}");
        assert!(escaped.starts_with("pkg\\u{1b}]0;owned\\u{7}"), "{escaped}");
        assert!(escaped.contains("\tok\nnext\\u{d}\n"), "{escaped}");
        let masked = mask_controls(hostile);
        assert_eq!(masked.len(), hostile.len(), "offsets are kept");
        assert!(!masked.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')), "{masked}");
        assert!(masked.ends_with("next\r\n"));
        assert_eq!(escape_controls("plain"), "plain");
    }

    #[test]
    fn long_values_are_shortened() {
        let long = "x".repeat(20_000);
        let short = shorten(&long);
        assert!(short.len() < 250 && short.contains('…') && short.contains("20000 bytes"), "{short}");
        assert_eq!(shorten("short"), "short");
        let multibyte = "é".repeat(300);
        assert!(shorten(&multibyte).starts_with(&"é".repeat(QUOTE_LIMIT)));
    }
}

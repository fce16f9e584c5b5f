//! PEP 503 simple-repository HTML parser.
//!
//! Extracts what a resolver needs from a project page of the
//! [simple repository API] in its HTML form: every `<a>` with an `href` (the
//! files), the PEP 592/503/658/714 `data-*` attributes on them, the page's
//! `<base href>` and the `<meta name="pypi:repository-version">` API version.
//! See the project's `platform.md` sections 3.2 and 3.3.
//!
//! This is a small hand-written tokenizer that follows the HTML tokenization
//! rules where they matter for index pages, not a full HTML5 parser:
//! - tag and attribute names are ASCII case-insensitive; attribute values may
//!   be double-quoted, single-quoted or unquoted, with whitespace around `=`;
//!   an attribute without a value has the value `""`; the first of duplicate
//!   attributes wins;
//! - comments, `<!DOCTYPE>`, `<?...>` and the contents of `<script>`, `<style>`,
//!   `<title>` and `<textarea>` are skipped;
//! - character references (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&#39;`
//!   `&nbsp;`, decimal `&#NN;` and hex `&#xHH;`) are decoded in attribute
//!   values and text; the `;` is required, anything else is kept literally;
//! - an `<a>` ends at `</a>`, at the next `<a>`, or at the end of input; a tag
//!   cut off by the end of input is dropped.
//!
//! It never fails: malformed input yields whatever could be recognised, and it runs in time
//! linear in the input: every byte is looked at a bounded number of times, and only the handful
//! of attributes a resolver reads are kept (a hostile tag with tens of thousands of distinct
//! attributes once made the first-wins check quadratic: 24 s for a 400 KB tag).
//!
//! Why not the `tl` crate (tried for issue 9): it drops an anchor whose unquoted value holds a
//! `/` (`<a href=/packages/x.whl>` yields no link), parses the inside of `<script>` as markup
//! (a link in a script string becomes a file), and reads `a < b` as a tag, so it would change
//! which files a page offers.
//!
//! Why not `html5gum` (0.9, evaluated for issue 10 with its state switching for `<script>`,
//! `<style>`, `<title>` and `<textarea>` on): it agrees with this tokenizer on every input the
//! tests below pin (unquoted values with `/`, `a < b` as text, `<!-->`, raw-text elements,
//! first-wins duplicates, `<a/href=...>`) but one: it decodes the WHATWG legacy references that
//! lack their `;`, so `&amp` at the end of a link text or attribute value becomes `&`, where
//! this tokenizer keeps the text as written (`attribute_syntax_variants`). The swap would change
//! what a page offers for that input and buys no behaviour index pages need.
//!
//! [simple repository API]: https://packaging.python.org/en/latest/specifications/simple-repository-api/

/// One link on a project page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Anchor {
    /// The `href`, entity-decoded, with surrounding ASCII whitespace removed.
    /// Relative to [`SimpleHtml::base`] or the page URL; may carry a
    /// `#sha256=...` fragment.
    pub href: String,
    /// The link text (normally the filename), entity-decoded and trimmed.
    pub text: String,
    /// `data-requires-python`, entity-decoded; `None` when absent or blank.
    pub requires_python: Option<String>,
    /// `data-yanked`: `None` = not yanked, `Some("")` = yanked without reason,
    /// otherwise the reason.
    pub yanked: Option<String>,
    /// `data-core-metadata`, else the legacy `data-dist-info-metadata`, as
    /// written: normally `"true"` or `"sha256=<hex>"` (`""` if valueless).
    pub core_metadata: Option<String>,
}

/// The parts of a simple-repository HTML page that matter to a resolver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SimpleHtml {
    /// `href` of the first `<base>` that has one.
    pub base: Option<String>,
    /// `content` of the first `<meta name="pypi:repository-version">`.
    pub repository_version: Option<String>,
    /// Every `<a>` that has an `href`, in document order.
    pub anchors: Vec<Anchor>,
}

/// Parse a simple-repository HTML page. Never fails.
pub fn parse(html: &str) -> SimpleHtml {
    let mut page = SimpleHtml::default();
    let mut tokenizer = Tokenizer { src: html, pos: 0 };
    // The anchor being read, if any, with its raw (undecoded) text so far.
    let mut open: Option<(Anchor, String)> = None;

    while let Some(token) = tokenizer.next_token() {
        match token {
            Token::Text(text) => {
                if let Some((_, buffer)) = open.as_mut() {
                    buffer.push_str(text);
                }
            }
            Token::EndTag(name) => {
                if name == "a"
                    && let Some(anchor) = open.take()
                {
                    page.anchors.push(finish(anchor));
                }
            }
            Token::StartTag { name, attrs } => match name.as_str() {
                "a" => {
                    if let Some(anchor) = open.take() {
                        page.anchors.push(finish(anchor));
                    }
                    if let Some(anchor) = anchor_from(&attrs) {
                        open = Some((anchor, String::new()));
                    }
                }
                "base" if page.base.is_none() => {
                    if let Some(href) = attr(&attrs, "href") {
                        page.base = Some(trim_ascii_ws(href).to_string());
                    }
                }
                "meta" if page.repository_version.is_none() => {
                    let is_version =
                        attr(&attrs, "name").is_some_and(|n| n.trim().eq_ignore_ascii_case("pypi:repository-version"));
                    if is_version && let Some(content) = attr(&attrs, "content") {
                        page.repository_version = Some(content.trim().to_string());
                    }
                }
                "script" | "style" | "title" | "textarea" => tokenizer.skip_raw_text(&name),
                _ => {}
            },
        }
    }
    if let Some(anchor) = open.take() {
        page.anchors.push(finish(anchor));
    }
    page
}

fn anchor_from(attrs: &[(String, String)]) -> Option<Anchor> {
    let href = attr(attrs, "href")?;
    let requires_python =
        attr(attrs, "data-requires-python").map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let core_metadata =
        attr(attrs, "data-core-metadata").or_else(|| attr(attrs, "data-dist-info-metadata")).map(str::to_string);
    Some(Anchor {
        href: trim_ascii_ws(href).to_string(),
        text: String::new(),
        requires_python,
        yanked: attr(attrs, "data-yanked").map(str::to_string),
        core_metadata,
    })
}

fn finish((mut anchor, raw_text): (Anchor, String)) -> Anchor {
    anchor.text = decode_entities(&raw_text).trim().to_string();
    anchor
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The attributes [`parse`] reads; every other attribute is skipped unread.
const KEPT_ATTRIBUTES: &[&str] = &[
    "href",
    "data-requires-python",
    "data-yanked",
    "data-core-metadata",
    "data-dist-info-metadata",
    "name",
    "content",
];

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0c')
}

fn trim_ascii_ws(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_ascii() && is_ws(c as u8))
}

enum Token<'a> {
    Text(&'a str),
    /// Lowercased name; attribute names lowercased, values entity-decoded.
    StartTag {
        name: String,
        attrs: Vec<(String, String)>,
    },
    EndTag(String),
}

/// Splits the input into text and tags. All positions it slices at are next
/// to ASCII bytes, so slicing never splits a UTF-8 sequence.
struct Tokenizer<'a> {
    src: &'a str,
    pos: usize,
}

impl<'a> Tokenizer<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.src.as_bytes()
    }

    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes().get(self.pos + offset).copied()
    }

    fn next_token(&mut self) -> Option<Token<'a>> {
        loop {
            let bytes = self.bytes();
            if self.pos >= bytes.len() {
                return None;
            }
            if bytes[self.pos] != b'<' {
                let end = find_byte(bytes, self.pos, b'<').unwrap_or(bytes.len());
                let text = &self.src[self.pos..end];
                self.pos = end;
                return Some(Token::Text(text));
            }
            match self.peek(1) {
                Some(b'!') if bytes[self.pos..].starts_with(b"<!--") => {
                    // Comment; "<!-->" and "<!--->" close immediately.
                    let body = self.pos + 4;
                    self.pos = if bytes[body..].starts_with(b">") {
                        body + 1
                    } else if bytes[body..].starts_with(b"->") {
                        body + 2
                    } else {
                        find_seq(bytes, body, b"-->").map_or(bytes.len(), |i| i + 3)
                    };
                }
                Some(b'!' | b'?') => self.skip_past_gt(self.pos + 2),
                Some(b'/') => match self.peek(2) {
                    Some(b) if b.is_ascii_alphabetic() => {
                        let name_start = self.pos + 2;
                        let name_end = self.scan_name(name_start);
                        let name = self.src[name_start..name_end].to_ascii_lowercase();
                        self.skip_past_gt(name_end);
                        if self.pos > bytes.len() {
                            return None;
                        }
                        return Some(Token::EndTag(name));
                    }
                    // "</>" is dropped; "</ " etc. is a bogus comment.
                    _ => self.skip_past_gt(self.pos + 2),
                },
                Some(b) if b.is_ascii_alphabetic() => return self.start_tag(),
                _ => {
                    // A lone '<' is text.
                    let text = &self.src[self.pos..self.pos + 1];
                    self.pos += 1;
                    return Some(Token::Text(text));
                }
            }
            if self.pos > bytes.len() {
                return None;
            }
        }
    }

    /// Move past the next '>' at or after `from`; at end of input, set `pos`
    /// beyond the end so the caller knows the construct was unterminated.
    fn skip_past_gt(&mut self, from: usize) {
        self.pos = find_byte(self.bytes(), from, b'>').map_or(self.bytes().len() + 1, |i| i + 1);
    }

    /// End of a tag name starting at `from`.
    fn scan_name(&self, from: usize) -> usize {
        let bytes = self.bytes();
        let mut i = from;
        while i < bytes.len() && !is_ws(bytes[i]) && bytes[i] != b'/' && bytes[i] != b'>' {
            i += 1;
        }
        i
    }

    /// Parse a start tag at `pos` (which is `<` followed by a letter). Returns
    /// `None`, consuming the rest of the input, if the tag is unterminated.
    fn start_tag(&mut self) -> Option<Token<'a>> {
        let bytes = self.bytes();
        let src = self.src;
        let name_start = self.pos + 1;
        let mut i = self.scan_name(name_start);
        let name = src[name_start..i].to_ascii_lowercase();
        let mut attrs: Vec<(String, String)> = Vec::new();
        let unterminated = |tok: &mut Self| {
            tok.pos = bytes.len();
            None
        };

        loop {
            while i < bytes.len() && (is_ws(bytes[i]) || bytes[i] == b'/') {
                i += 1;
            }
            match bytes.get(i) {
                None => return unterminated(self),
                Some(b'>') => {
                    i += 1;
                    break;
                }
                Some(_) => {}
            }
            // Attribute name; a leading '=' belongs to the name.
            let attr_start = i;
            i += 1;
            while i < bytes.len() && !is_ws(bytes[i]) && !matches!(bytes[i], b'/' | b'>' | b'=') {
                i += 1;
            }
            let attr_name = src[attr_start..i].to_ascii_lowercase();
            while i < bytes.len() && is_ws(bytes[i]) {
                i += 1;
            }
            let mut value = "";
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                while i < bytes.len() && is_ws(bytes[i]) {
                    i += 1;
                }
                match bytes.get(i) {
                    None => return unterminated(self),
                    Some(&quote @ (b'"' | b'\'')) => {
                        let Some(close) = find_byte(bytes, i + 1, quote) else {
                            return unterminated(self);
                        };
                        value = &src[i + 1..close];
                        i = close + 1;
                    }
                    Some(b'>') => {} // `<a href=>`: empty value; '>' closes the tag.
                    Some(_) => {
                        let start = i;
                        while i < bytes.len() && !is_ws(bytes[i]) && bytes[i] != b'>' {
                            i += 1;
                        }
                        value = &src[start..i];
                    }
                }
            }
            // Only the few attributes a resolver reads are kept, so the first-wins check stays
            // constant time however many attributes a hostile tag carries.
            if KEPT_ATTRIBUTES.contains(&attr_name.as_str()) && !attrs.iter().any(|(n, _)| *n == attr_name) {
                attrs.push((attr_name, decode_entities(value)));
            }
        }
        self.pos = i;
        Some(Token::StartTag { name, attrs })
    }

    /// Skip the contents of a raw-text element up to (not including) its end
    /// tag, or to the end of input.
    fn skip_raw_text(&mut self, name: &str) {
        let bytes = self.bytes();
        let mut from = self.pos;
        let needle = format!("</{name}");
        loop {
            match find_seq_ignore_case(bytes, from, needle.as_bytes()) {
                None => {
                    self.pos = bytes.len();
                    return;
                }
                Some(at) => {
                    let after = at + needle.len();
                    match bytes.get(after) {
                        Some(&b) if is_ws(b) || b == b'/' || b == b'>' => {
                            self.pos = at;
                            return;
                        }
                        None => {
                            self.pos = bytes.len();
                            return;
                        }
                        Some(_) => from = after,
                    }
                }
            }
        }
    }
}

fn find_byte(hay: &[u8], from: usize, needle: u8) -> Option<usize> {
    hay.get(from..)?.iter().position(|&b| b == needle).map(|i| i + from)
}

fn find_seq(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

fn find_seq_ignore_case(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle)).map(|i| i + from)
}

/// Decode character references. Unknown or malformed references, and those
/// without a closing `;`, are left as written.
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match decode_one(rest) {
            Some((c, consumed)) => {
                out.push(c);
                rest = &rest[consumed..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Decode one reference at the start of `s` (which starts with `&`); returns
/// the character and the number of bytes consumed.
fn decode_one(s: &str) -> Option<(char, usize)> {
    // Longest reference we accept: "&#x10FFFF;" plus leading zeros, capped.
    const MAX_LEN: usize = 32;
    let semi = s.as_bytes().iter().take(MAX_LEN).position(|&b| b == b';')?;
    let body = &s[1..semi];
    let c = if let Some(num) = body.strip_prefix('#') {
        let (digits, radix) = match num.strip_prefix(['x', 'X']) {
            Some(hex) => (hex, 16),
            None => (num, 10),
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        let value = u32::from_str_radix(digits, radix).unwrap_or(u32::MAX);
        match value {
            0 => char::REPLACEMENT_CHARACTER,
            v => char::from_u32(v).unwrap_or(char::REPLACEMENT_CHARACTER),
        }
    } else {
        match body {
            "amp" | "AMP" => '&',
            "lt" | "LT" => '<',
            "gt" | "GT" => '>',
            "quot" | "QUOT" => '"',
            "apos" => '\'',
            "nbsp" => '\u{a0}',
            _ => return None,
        }
    };
    Some((c, semi + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYPI: &str = r#"<!DOCTYPE html>
<html>
  <head>
    <meta name="pypi:repository-version" content="1.4">
    <meta name="pypi:project-status" content="active">
    <title>Links for pydantic-core</title>
  </head>
  <body>
    <h1>Links for pydantic-core</h1>
    <a href="https://files.pythonhosted.org/packages/ab/cd/pydantic_core-2.33.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl#sha256=0123abcd" data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256=feedbeef" data-core-metadata="sha256=feedbeef">pydantic_core-2.33.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl</a><br />
    <a href="https://files.pythonhosted.org/packages/ef/01/pydantic_core-2.33.2.tar.gz#sha256=4567" data-requires-python="&gt;=3.9" >pydantic_core-2.33.2.tar.gz</a><br />
    <a href="https://files.pythonhosted.org/packages/22/33/pydantic_core-0.1.0-py3-none-any.whl#sha256=89" data-requires-python="&gt;=3.7,&lt;4" data-yanked="broken &amp; &#39;bad&#39;" data-dist-info-metadata="true">pydantic_core-0.1.0-py3-none-any.whl</a><br />
    <a href="https://files.pythonhosted.org/packages/44/55/pydantic_core-0.0.9.tar.gz#sha256=aa" data-yanked="">pydantic_core-0.0.9.tar.gz</a><br />
  </body>
</html>
<!--SERIAL 28000000-->
"#;

    #[test]
    fn parses_pypi_page() {
        let page = parse(PYPI);
        assert_eq!(page.repository_version.as_deref(), Some("1.4"));
        assert_eq!(page.base, None);
        assert_eq!(page.anchors.len(), 4);
        let a = &page.anchors[0];
        assert!(a.href.ends_with("manylinux2014_x86_64.whl#sha256=0123abcd"));
        assert_eq!(a.text, "pydantic_core-2.33.2-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
        assert_eq!(a.requires_python.as_deref(), Some(">=3.9"));
        assert_eq!(a.yanked, None);
        assert_eq!(a.core_metadata.as_deref(), Some("sha256=feedbeef"));
        assert_eq!(page.anchors[1].core_metadata, None);
        let old = &page.anchors[2];
        assert_eq!(old.requires_python.as_deref(), Some(">=3.7,<4"));
        assert_eq!(old.yanked.as_deref(), Some("broken & 'bad'"));
        assert_eq!(old.core_metadata.as_deref(), Some("true"));
        assert_eq!(page.anchors[3].yanked.as_deref(), Some(""));
    }

    #[test]
    fn parses_pypiserver_page() {
        let html = "<!DOCTYPE html>\n<html>\n  <head>\n    <title>Links for foo-bar</title>\n  </head>\n  <body>\n    <h1>Links for foo-bar</h1>\n         <a href=\"/packages/foo_bar-1.0-py3-none-any.whl#sha256=abc\">foo_bar-1.0-py3-none-any.whl</a><br>\n         <a href=\"/packages/foo-bar-0.9.tar.gz#sha256=def\">foo-bar-0.9.tar.gz</a><br>\n  </body>\n</html>\n";
        let page = parse(html);
        assert_eq!(page.repository_version, None);
        assert_eq!(page.anchors.len(), 2);
        assert_eq!(page.anchors[0].href, "/packages/foo_bar-1.0-py3-none-any.whl#sha256=abc");
        assert_eq!(page.anchors[1].text, "foo-bar-0.9.tar.gz");
        assert!(
            page.anchors.iter().all(|a| a.requires_python.is_none() && a.yanked.is_none() && a.core_metadata.is_none())
        );
    }

    #[test]
    fn parses_dumb_pypi_page() {
        let html = r#"<!doctype html>
<html>
    <head>
        <title>foo</title>
    </head>
    <body>
        <h1>foo</h1>
        <p>Latest version: 2.0</p>
        <ul>
                <li>
                    <a
                        href="../../pool/foo-2.0-py3-none-any.whl#sha256=11"
                            data-requires-python="&gt;=3.8"
                    >foo-2.0-py3-none-any.whl</a>
                    (2.0, 2024-01-01, uploaded by ci)
                </li>
                <li>
                    <a
                        href="../../pool/foo-1.0.tar.gz"
                    >foo-1.0.tar.gz</a>
                    (1.0)
                </li>
        </ul>
    </body>
</html>
"#;
        let page = parse(html);
        assert_eq!(page.anchors.len(), 2);
        assert_eq!(page.anchors[0].href, "../../pool/foo-2.0-py3-none-any.whl#sha256=11");
        assert_eq!(page.anchors[0].text, "foo-2.0-py3-none-any.whl");
        assert_eq!(page.anchors[0].requires_python.as_deref(), Some(">=3.8"));
        assert_eq!(page.anchors[1].text, "foo-1.0.tar.gz");
        assert_eq!(page.anchors[1].requires_python, None);
    }

    #[test]
    fn attribute_syntax_variants() {
        let html = concat!(
            "<HTML><HEAD><BASE HREF = ' https://mirror.example/simple/x/ '>",
            "<Meta Content=2.0 NAME=\"PyPI:Repository-Version\"></HEAD>",
            "<A HREF=a.whl DATA-YANKED data-requires-python='&lt;4'>one</A>",
            "<a\thref\n=\n\"b.whl?x=1&y=2&amp;z=3\" href=\"ignored\" data-core-metadata>two</a>",
            "<a href=c.whl/>three</a>",
            "<a data-dist-info-metadata=sha256=ab href=\"d.whl\">&#x66;&#111;&lt;&gt;&quot;&apos;&#39;&unknown;&amp</a>",
            "<abbr href=not-an-anchor>x</abbr>",
            "<a name=top>no href</a>",
            "<a href=e.whl data-core-metadata=\"true\" data-dist-info-metadata=\"sha256=00\">five</a>",
            "<base href=second>",
        );
        let page = parse(html);
        assert_eq!(page.base.as_deref(), Some("https://mirror.example/simple/x/"));
        assert_eq!(page.repository_version.as_deref(), Some("2.0"));
        let hrefs: Vec<_> = page.anchors.iter().map(|a| a.href.as_str()).collect();
        assert_eq!(hrefs, ["a.whl", "b.whl?x=1&y=2&z=3", "c.whl/", "d.whl", "e.whl"]);
        let a = &page.anchors;
        assert_eq!(a[0].yanked.as_deref(), Some(""));
        assert_eq!(a[0].requires_python.as_deref(), Some("<4"));
        assert_eq!(a[0].text, "one");
        assert_eq!(a[1].core_metadata.as_deref(), Some(""));
        assert_eq!(a[1].text, "two");
        assert_eq!(a[2].text, "three");
        assert_eq!(a[3].core_metadata.as_deref(), Some("sha256=ab"));
        assert_eq!(a[3].text, "fo<>\"''&unknown;&amp");
        assert_eq!(a[4].core_metadata.as_deref(), Some("true"));
    }

    #[test]
    fn skips_comments_scripts_and_nested_markup() {
        let html = concat!(
            "<!-- <a href=commented.whl>x</a> -->",
            "<!--><a href=after-short-comment>1</a>",
            "<script>var s = '<a href=\"script.whl\">';</script>",
            "<style>a::before { content: '</styles>' }</style >",
            "<title><a href=title.whl></title>",
            "<?xml version='1.0'?><!DOCTYPE html>",
            "<a href=real.whl><span>real</span><!-- c -->.whl</a>",
            "<a href=implicit.whl>first<a href=next.whl>second</a>",
            "<p>1 < 2</p><a href=lt.whl>a < b</a>",
        );
        let page = parse(html);
        let got: Vec<_> = page.anchors.iter().map(|a| (a.href.as_str(), a.text.as_str())).collect();
        assert_eq!(
            got,
            [
                ("after-short-comment", "1"),
                ("real.whl", "real.whl"),
                ("implicit.whl", "first"),
                ("next.whl", "second"),
                ("lt.whl", "a < b"),
            ]
        );
    }

    #[test]
    fn entity_edge_cases() {
        assert_eq!(decode_entities("&#0;&#xD800;&#x110000;&#99999999999999;"), "\u{fffd}".repeat(4));
        assert_eq!(decode_entities("&#;&#x;&#xZZ;&;&"), "&#;&#x;&#xZZ;&;&");
        assert_eq!(decode_entities("&#x1F600;&#X41;&nbsp;"), "\u{1f600}A\u{a0}");
        assert_eq!(decode_entities("é&amp;ü"), "é&ü");
        let long = format!("&#{};", "0".repeat(100));
        assert_eq!(decode_entities(&long), long);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let cases = [
            "",
            "<",
            "<a",
            "<a ",
            "<a href",
            "<a href=",
            "<a href=\"unterminated",
            "<a href='x.whl'",
            "<a href=x.whl>text without close",
            "</",
            "</a",
            "<!--",
            "<!-- never closed <a href=x>",
            "<!",
            "<?",
            "<script>",
            "<script><a href=x></script",
            "<a href=x.whl><script></a>",
            "<<<<>>>>",
            "<a =x href=y>",
            "<a ==>",
            "<a/href=q.whl>q</a>",
            "&&&&#;&#x;",
            "<a href=\"é\u{0}ü\">ä</a>",
            "<a href=ok>\u{fffd}</a></a></a>",
            "<é><a href=u>u</a>",
            "<a\u{a0}href=nbsp>z</a>",
        ];
        for case in cases {
            let _ = parse(case);
        }
        assert_eq!(parse("<a href=\"unterminated").anchors, []);
        let open = parse("<a href=x.whl>text without close");
        assert_eq!(open.anchors.len(), 1);
        assert_eq!(open.anchors[0].text, "text without close");
        assert_eq!(parse("<a/href=q.whl>q</a>").anchors[0].href, "q.whl");
        assert_eq!(parse("<a =x href=y>").anchors[0].href, "y");

        let many = "<a href=x>".repeat(10_000);
        assert_eq!(parse(&many).anchors.len(), 10_000);
        let deep = format!("{}<a href=y>y</a>", "<div>".repeat(50_000));
        assert_eq!(parse(&deep).anchors.len(), 1);
        let big_attr = format!("<a href=\"{}\">", "&amp;".repeat(100_000));
        assert_eq!(parse(&big_attr).anchors[0].href.len(), 100_000);
    }

    /// Pages far larger than any real index page parse in linear time; the time is printed
    /// (`--nocapture`) rather than asserted, so a slow machine does not fail the test.
    #[test]
    fn huge_pages_parse_in_linear_time() {
        let mut page = String::from("<!DOCTYPE html><html><body>\n");
        let count = 30_000;
        for i in 0..count {
            page.push_str(&format!(
                "<a href=\"../../packages/pkg-1.{i}-py3-none-any.whl#sha256={:08x}\" data-requires-python=\"&gt;=3.8\" \
                 data-core-metadata=\"sha256={:08x}\">pkg-1.{i}-py3-none-any.whl</a><br/>\n",
                i, i
            ));
        }
        assert!(page.len() > 300_000, "{} bytes", page.len());
        let started = std::time::Instant::now();
        let parsed = parse(&page);
        eprintln!("{count} anchors, {} KB: parsed in {:?}", page.len() / 1024, started.elapsed());
        assert_eq!(parsed.anchors.len(), count);
        assert_eq!(parsed.anchors[count - 1].text, format!("pkg-1.{}-py3-none-any.whl", count - 1));
        assert_eq!(parsed.anchors[7].requires_python.as_deref(), Some(">=3.8"));

        // One tag with 60,000 distinct attributes (400 KB): the shape that was quadratic.
        let attributes: String = (0..60_000).map(|i| format!("d{i}=\"&amp;\" ")).collect();
        let hostile = format!("<a {attributes}href=x.whl data-yanked=no>x</a>");
        let started = std::time::Instant::now();
        let parsed = parse(&hostile);
        eprintln!("one tag with 60000 attributes, {} KB: parsed in {:?}", hostile.len() / 1024, started.elapsed());
        assert_eq!(parsed.anchors[0].href, "x.whl");
        assert_eq!(parsed.anchors[0].yanked.as_deref(), Some("no"));
    }
}

//! AWS SAM and CloudFormation templates (`template.yaml`): read for `lbuild init` (which functions
//! a repository has), and rewritten for `lbuild export --format sam --template` (each function's
//! `CodeUri` and each layer's `ContentUri` pointed at the zip lbuild built).
//!
//! Reading goes through `yaml-rust2` with the input bounded (size, alias expansion, depth) before
//! a tree is built, and YAML merge keys followed. Rewriting never re-serializes the template:
//! the exact bytes of each value it replaces are found with the parser's positions and spliced,
//! so comments, layout and CloudFormation's tags (`!Ref`, `!GetAtt`, `!Sub`) stay as written.

use std::collections::BTreeMap;
use std::path::Path;

use yaml_rust2::Yaml;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::model::is_valid_member_name;

/// Templates larger than this are not read: real ones are a few hundred kilobytes.
const MAX_TEMPLATE_BYTES: u64 = 8 << 20;

/// Aliases may expand a small file into a huge tree ("billion laughs"), and deep nesting
/// overflows the stack when the tree is dropped: both are refused before the tree is built.
const MAX_EXPANDED_NODES: u64 = 1_000_000;
const MAX_DEPTH: usize = 128;

/// The first YAML document of a template, `None` when there is no such file. CloudFormation's
/// short tags (`!Ref`, `!Sub`) are read as their plain value.
pub(crate) fn read(path: &Path) -> miette::Result<Option<Yaml>> {
    let Ok(metadata) = fs_err::metadata(path) else { return Ok(None) };
    if !metadata.is_file() {
        return Ok(None);
    }
    if metadata.len() > MAX_TEMPLATE_BYTES {
        miette::bail!(
            help = "lbuild init reads templates up to 8 MiB; write lambda.toml by hand",
            "`{}` is {} bytes",
            path.display(),
            metadata.len()
        );
    }
    let text = crate::manifest::read_text_file(path)
        .map_err(|problem| miette::miette!("cannot read `{}`: {problem}", path.display()))?;
    let unreadable = |why: String| {
        miette::miette!(
            help = "fix the file (an AWS SAM or CloudFormation template, YAML or JSON)",
            "`{}` is not YAML lbuild can read: {why}",
            path.display()
        )
    };
    check_yaml_size(&text).map_err(unreadable)?;
    let documents = yaml_rust2::YamlLoader::load_from_str(&text).map_err(|err| unreadable(err.to_string()))?;
    Ok(documents.into_iter().next().map(merge_keys))
}

/// YAML 1.1 merge keys (`<<: *defaults`, or a list of them), which SAM and Serverless templates
/// use for shared properties and the parser leaves as plain keys: the merged mappings' entries
/// are added where the mapping does not have them already.
fn merge_keys(value: Yaml) -> Yaml {
    match value {
        Yaml::Hash(hash) => {
            let merge = Yaml::String("<<".into());
            let mut merged = yaml_rust2::yaml::Hash::new();
            let mut sources = Vec::new();
            for (key, value) in hash {
                if key == merge {
                    match merge_keys(value) {
                        Yaml::Array(list) => sources.extend(list),
                        other => sources.push(other),
                    }
                } else {
                    merged.insert(key, merge_keys(value));
                }
            }
            for source in sources {
                if let Yaml::Hash(source) = merge_keys(source) {
                    for (key, value) in source {
                        merged.entry(key).or_insert(value);
                    }
                }
            }
            Yaml::Hash(merged)
        }
        Yaml::Array(list) => Yaml::Array(list.into_iter().map(merge_keys).collect()),
        other => other,
    }
}

/// How many nodes the text's first document expands to, aliases included, within bounds.
fn check_yaml_size(text: &str) -> Result<(), String> {
    let mut parser = Parser::new_from_str(text);
    // The open collections, each with its anchor and its expanded node count so far.
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut anchors: BTreeMap<usize, u64> = BTreeMap::new();
    let mut total: u64 = 0;
    loop {
        let (event, _) = parser.next_token().map_err(|err| err.to_string())?;
        let (anchor, size) = match event {
            Event::StreamEnd | Event::DocumentEnd => return Ok(()),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if open.len() >= MAX_DEPTH {
                    return Err(format!("it nests deeper than {MAX_DEPTH} levels"));
                }
                open.push((anchor, 1));
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop().unwrap_or((0, 1)),
            Event::Scalar(_, _, anchor, _) => (anchor, 1),
            Event::Alias(anchor) => (0, anchors.get(&anchor).copied().unwrap_or(1)),
            _ => continue,
        };
        if anchor > 0 {
            anchors.insert(anchor, size);
        }
        match open.last_mut() {
            Some((_, parent)) => *parent = parent.saturating_add(size),
            None => total = total.saturating_add(size),
        }
        if open.iter().map(|(_, count)| *count).fold(total, u64::saturating_add) > MAX_EXPANDED_NODES {
            return Err(format!("its aliases expand to more than {MAX_EXPANDED_NODES} nodes"));
        }
    }
}

/// `HelloWorld`, `hello_world`, `Orders API` -> `hello-world`, `hello_world`, `orders-api`.
pub(crate) fn member_name(raw: &str) -> String {
    let mut name = String::new();
    let mut previous_lower = false;
    for c in raw.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            name.push('-');
        }
        previous_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
            name.push(c.to_ascii_lowercase());
        } else if !name.ends_with('-') {
            name.push('-');
        }
    }
    let name = name.trim_matches(['-', '_']).to_string();
    if is_valid_member_name(&name) { name } else { "function".to_string() }
}

/// One value to replace: the `key` of the `Properties` of resource `resource`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Place {
    pub resource: String,
    pub key: String,
}

/// An open collection while the template is scanned: for a mapping, the key whose value is
/// being read.
enum Frame {
    /// The key being read, and whether the mapping carries an anchor (`&name`).
    Map(Option<String>, bool),
    Seq(bool),
}

impl Frame {
    fn anchored(&self) -> bool {
        matches!(self, Frame::Map(_, true) | Frame::Seq(true))
    }
}

/// `text` with the value at each place replaced by its new value (YAML text as given: a
/// double-quoted scalar, or a flow mapping), and the places that could not be rewritten, with why: not written in the resource
/// itself (inherited from `Globals` or a merge key), or written in a form lbuild does not
/// splice (a block scalar, a tagged or multi-line value).
pub(crate) fn rewrite(text: &str, values: &BTreeMap<Place, String>) -> Result<(String, Vec<(Place, String)>), String> {
    check_yaml_size(text)?;
    // The parser's positions count characters; splicing needs bytes.
    let bytes_at: Vec<usize> = text.char_indices().map(|(at, _)| at).chain(std::iter::once(text.len())).collect();
    let mut parser = Parser::new_from_str(text);
    let mut frames: Vec<Frame> = Vec::new();
    let mut spans: BTreeMap<Place, Result<std::ops::Range<usize>, String>> = BTreeMap::new();
    let mut documents = 0;
    loop {
        let (event, mark) = parser.next_token().map_err(|err| err.to_string())?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart => {
                documents += 1;
                if documents > 1 {
                    return Err("it holds more than one YAML document".into());
                }
            }
            Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                // `Code: {S3Bucket: ..., S3Key: ...}` names no local path to replace.
                if let Some(place) = place_of(&frames).filter(|place| values.contains_key(place)) {
                    spans.insert(place, Err("its value is a mapping or a list, not a path".to_string()));
                }
                let anchored = anchor != 0;
                frames.push(if matches!(event, Event::MappingStart(..)) {
                    Frame::Map(None, anchored)
                } else {
                    Frame::Seq(anchored)
                });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                frames.pop();
                end_value(&mut frames);
            }
            Event::Scalar(value, style, anchor, tag) => {
                if let Some(Frame::Map(key @ None, _)) = frames.last_mut() {
                    *key = Some(value);
                    continue;
                }
                if let Some(place) = place_of(&frames).filter(|place| values.contains_key(place)) {
                    let start = bytes_at.get(mark.index()).copied().unwrap_or(text.len());
                    let span = if tag.is_some() {
                        Err("its value is tagged".to_string())
                    } else if anchor != 0 {
                        // Replacing it would change every `*alias` of it too.
                        Err("its value carries an anchor (`&name`) that other values may alias".to_string())
                    } else if frames.iter().any(Frame::anchored) {
                        // So would replacing it inside an anchored mapping (`Properties: &p`, a
                        // `<<: *p` elsewhere).
                        Err("it is inside an anchored mapping (`&name`) that other values may alias or merge"
                            .to_string())
                    } else {
                        scalar_end(text, start, &value, style).map(|end| start..end)
                    };
                    spans.insert(place, span);
                }
                end_value(&mut frames);
            }
            Event::Alias(_) => {
                if let Some(place) = place_of(&frames).filter(|place| values.contains_key(place)) {
                    spans.insert(place, Err("its value is an alias (`*name`) of another".to_string()));
                }
                end_value(&mut frames);
            }
            _ => {}
        }
    }
    let mut left = Vec::new();
    let mut replaced: Vec<(std::ops::Range<usize>, &String)> = Vec::new();
    for (place, value) in values {
        match spans.get(place) {
            Some(Ok(span)) => replaced.push((span.clone(), value)),
            Some(Err(why)) => left.push((place.clone(), why.clone())),
            None => left.push((place.clone(), format!("it has no `{}` of its own", place.key))),
        }
    }
    replaced.sort_by_key(|(span, _)| span.start);
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    for (span, value) in replaced {
        out.push_str(&text[done..span.start]);
        out.push_str(value);
        done = span.end;
    }
    out.push_str(&text[done..]);
    Ok((out, left))
}

/// A value is read: the entry of the mapping it belongs to is complete.
fn end_value(frames: &mut [Frame]) {
    if let Some(Frame::Map(key, _)) = frames.last_mut() {
        *key = None;
    }
}

/// `Resources.ID.Properties.KEY`, when that is where the value being read sits.
fn place_of(frames: &[Frame]) -> Option<Place> {
    let keys: Vec<&str> = frames
        .iter()
        .map(|frame| match frame {
            Frame::Map(Some(key), _) => Some(key.as_str()),
            _ => None,
        })
        .collect::<Option<_>>()?;
    match keys.as_slice() {
        ["Resources", resource, "Properties", key] => {
            Some(Place { resource: resource.to_string(), key: key.to_string() })
        }
        _ => None,
    }
}

/// Where the scalar that starts at byte `start` ends: a plain scalar on one line is its value as
/// written; a quoted one ends at its closing quote.
fn scalar_end(text: &str, start: usize, value: &str, style: TScalarStyle) -> Result<usize, String> {
    let rest = &text[start..];
    match style {
        TScalarStyle::Plain if rest.starts_with(value) && !value.contains('\n') => Ok(start + value.len()),
        TScalarStyle::SingleQuoted | TScalarStyle::DoubleQuoted => {
            let quote = if style == TScalarStyle::SingleQuoted { '\'' } else { '"' };
            let mut chars = rest.char_indices().skip(1).peekable();
            while let Some((at, c)) = chars.next() {
                if c == '\n' {
                    break;
                }
                if quote == '"' && c == '\\' {
                    chars.next();
                } else if c == quote {
                    // `''` is an escaped quote in a single-quoted scalar.
                    if quote == '\'' && chars.peek().is_some_and(|(_, next)| *next == '\'') {
                        chars.next();
                        continue;
                    }
                    return Ok(start + at + 1);
                }
            }
            Err("its value spans several lines".into())
        }
        _ => Err("its value is a block or multi-line scalar".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_logical_ids_and_keys() {
        assert_eq!(member_name("HelloWorld"), "hello-world");
        assert_eq!(member_name("OrdersAPI"), "orders-api");
        assert_eq!(member_name("hello_world"), "hello_world");
        assert_eq!(member_name("Orders API v2"), "orders-api-v2");
        assert_eq!(member_name("!!!"), "function");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_before_the_tree_is_built() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (level, previous) in ('b'..='j').zip('a'..) {
            let refs = vec![format!("*{previous}"); 10].join(", ");
            bomb.push_str(&format!("{level}: &{level} [{refs}]\n"));
        }
        let err = check_yaml_size(&bomb).unwrap_err();
        assert!(err.contains("expand to more than"), "{err}");
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        assert!(check_yaml_size(&deep).unwrap_err().contains("deeper than"));
        // An ordinary template with a few anchors is fine.
        check_yaml_size("defaults: &d {Runtime: python3.12}\nfn:\n  <<: *d\n  Handler: app.handler\n").unwrap();
    }

    #[test]
    fn rewriting_replaces_only_the_values_named_and_keeps_the_rest_byte_for_byte() {
        let text = "# my template\nGlobals:\n  Function:\n    CodeUri: shared/\nResources:\n\
                    \x20 Api:   # the API\n    Type: AWS::Serverless::Function\n    Properties:\n\
                    \x20     CodeUri: 'api''s dir/'   # where\n      Role: !GetAtt Role.Arn\n\
                    \x20 Jobs:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: \"jo\\\"bs\", Handler: j.run}\n\
                    \x20 Inherits:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: a.b\n\
                    \x20 Folded:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: >-\n        long\n\
                    \x20 Common:\n    Type: AWS::Serverless::LayerVersion\n    Properties:\n      ContentUri: layers/ # x\n\
                    \x20 Plain:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: {S3Bucket: b, S3Key: k}\n\
                    \x20 Anchored:\n    Properties:\n      CodeUri: &dir src/\n\
                    \x20 Shared:\n    Properties: &props\n      CodeUri: src/\n\
                    \x20 Aliased:\n    Properties:\n      CodeUri: *dir\n\
                    Outputs:\n  Api:\n    Value: !Sub \"${Api}\"\n";
        let place = |resource: &str, key: &str| Place { resource: resource.into(), key: key.into() };
        let values: BTreeMap<Place, String> = [
            (place("Api", "CodeUri"), "\"target/lambda/functions/api-python3.12-arm64.zip\"".to_string()),
            (place("Jobs", "CodeUri"), "{S3Bucket: b, S3Key: k}".to_string()),
            (place("Inherits", "CodeUri"), "x.zip".to_string()),
            (place("Folded", "CodeUri"), "y.zip".to_string()),
            (place("Common", "ContentUri"), "\"l\u{e9}.zip\"".to_string()),
            (place("Plain", "Code"), "p.zip".to_string()),
            (place("Anchored", "CodeUri"), "a.zip".to_string()),
            (place("Shared", "CodeUri"), "s.zip".to_string()),
            (place("Aliased", "CodeUri"), "b.zip".to_string()),
        ]
        .into_iter()
        .collect();
        let (out, left) = rewrite(text, &values).unwrap();
        let expected = text
            .replace("'api''s dir/'", "\"target/lambda/functions/api-python3.12-arm64.zip\"")
            .replace("\"jo\\\"bs\"", "{S3Bucket: b, S3Key: k}")
            .replace("ContentUri: layers/", "ContentUri: \"l\u{e9}.zip\"");
        assert_eq!(out, expected);
        assert_eq!(
            left,
            [
                (place("Aliased", "CodeUri"), "its value is an alias (`*name`) of another".to_string()),
                (
                    place("Anchored", "CodeUri"),
                    "its value carries an anchor (`&name`) that other values may alias".to_string()
                ),
                (place("Folded", "CodeUri"), "its value is a block or multi-line scalar".to_string()),
                (place("Inherits", "CodeUri"), "it has no `CodeUri` of its own".to_string()),
                (place("Plain", "Code"), "its value is a mapping or a list, not a path".to_string()),
                (
                    place("Shared", "CodeUri"),
                    "it is inside an anchored mapping (`&name`) that other values may alias or merge".to_string()
                ),
            ]
        );
        assert!(rewrite("a: 1\n---\nb: 2\n", &values).unwrap_err().contains("more than one"));
    }
}

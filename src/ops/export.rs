//! `lbuild export`: what the lock and the build know, in other tools' formats.
//!
//! - `requirements`: the pinned requirements of one target, with hashes, for pip.
//! - `sam`: an AWS SAM template fragment (`Resources:`) with one `AWS::Serverless::Function`
//!   per function zip and one `AWS::Serverless::LayerVersion` per layer zip, read from the
//!   build manifest, so `sam deploy` uploads the zips lbuild built as they are.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::str::FromStr as _;

use crate::fsutil::relative;
use crate::lockfile::{LockedPackage, PackageTarget};
use crate::outdir::{Artifact, BuildManifest, MANIFEST_NAME, OutDir};
use crate::output::warn_user;
use crate::plan::{BuildPlan, Provided, ZipPlan, find_member, find_target};
use crate::platform::parse_target_name;
use crate::session::GlobalOptions;

/// Options of `lbuild export --format sam`.
#[derive(Debug, Clone, Default)]
pub struct SamOptions {
    pub global: GlobalOptions,
    /// `--out-dir`: where `lbuild build` wrote (default `target/lambda` in the workspace).
    pub out_dir: Option<PathBuf>,
    /// `--template`: rewrite this SAM template instead of writing a fragment.
    pub template: Option<PathBuf>,
    /// `--format cfn`: a plain CloudFormation fragment (`AWS::Lambda::*`, code as local paths for
    /// `aws cloudformation package`) instead of SAM's.
    pub plain_cloudformation: bool,
}

/// The SAM template fragment for the last build, or with `--template` that template with each
/// function's and layer's code pointed at its zip.
pub fn sam_template(options: &SamOptions) -> miette::Result<String> {
    let (workspace, out_dir, manifest) = last_build(options)?;
    match &options.template {
        Some(template) => rewrite_template(&workspace, &out_dir, &manifest, template),
        None => fragment(&workspace, &out_dir, &manifest, options.plain_cloudformation),
    }
}

/// The workspace and the manifest of its last build, each zip checked to be the one it
/// describes.
fn last_build(options: &SamOptions) -> miette::Result<(crate::manifest::Workspace, PathBuf, BuildManifest)> {
    let workspace = options.global.workspace()?;
    let out_dir = crate::outdir::location(&workspace.root, options.out_dir.as_deref());
    // Taking the directory's lock finishes a build that was interrupted while publishing.
    let held = OutDir::open_existing(&out_dir)?;
    let manifest = BuildManifest::read(&out_dir)?.ok_or_else(|| {
        miette::miette!(
            help = "run `lbuild build` first (with the same `--out-dir`)",
            "there is no build manifest at `{}`",
            out_dir.join(MANIFEST_NAME).display()
        )
    })?;
    drop(held);
    // The template hands these zips to deployment: each must be the one the manifest describes.
    manifest.check_zips(&out_dir)?;
    Ok((workspace, out_dir, manifest))
}

/// The template at `path` with the `CodeUri` of each `AWS::Serverless::Function` (the `Code` of
/// an `AWS::Lambda::Function` given as a path) and the `ContentUri` of each
/// `AWS::Serverless::LayerVersion` (`Content` of an `AWS::Lambda::LayerVersion`) that is a
/// function or layer of the workspace pointed at the zip of the last build, on the resource's
/// architecture and runtime; everything else as it is, byte for byte.
fn rewrite_template(
    workspace: &crate::manifest::Workspace,
    out_dir: &std::path::Path,
    manifest: &BuildManifest,
    path: &std::path::Path,
) -> miette::Result<String> {
    use crate::interop::sam::Place;
    let raw = fs_err::read_to_string(path)
        .map_err(|err| miette::miette!("cannot read the template `{}`: {err}", path.display()))?;
    // A byte order mark is kept, outside what is parsed.
    let (bom, text) = match raw.strip_prefix('\u{feff}') {
        Some(text) => ("\u{feff}", text.to_string()),
        None => ("", raw.clone()),
    };
    let document = crate::interop::sam::read(path)?.unwrap_or(yaml_rust2::Yaml::BadValue);
    let Some(resources) = document["Resources"].as_hash() else {
        miette::bail!(
            help = "`--template` takes an AWS SAM or CloudFormation template",
            "the template `{}` has no `Resources`",
            path.display()
        );
    };
    // Paths in a template are relative to its directory.
    let absolute = crate::fsutil::absolute_normalized(path);
    let template_dir = absolute.parent().unwrap_or(std::path::Path::new("/")).to_path_buf();
    let globals = &document["Globals"]["Function"];
    let mut values = BTreeMap::new();
    for (id, resource) in resources {
        let Some(id) = id.as_str() else { continue };
        let (kind, key, suffix) = match resource["Type"].as_str().unwrap_or_default() {
            "AWS::Serverless::Function" => ("function", "CodeUri", "Function"),
            "AWS::Lambda::Function" => ("function", "Code", "Function"),
            "AWS::Serverless::LayerVersion" => ("layer", "ContentUri", "Layer"),
            "AWS::Lambda::LayerVersion" => ("layer", "Content", "Layer"),
            _ => continue,
        };
        let properties = &resource["Properties"];
        let shown = path.display();
        let Some((member, implied)) =
            template_member(workspace, manifest, kind, id, suffix, &properties[key], &template_dir)
                .map_err(|why| warn_user!("`{id}` in `{shown}`: {why}; its `{key}` is left as it is"))
                .ok()
        else {
            continue;
        };
        // The resource's architecture (SAM's default is x86_64) and runtimes, when it names them.
        let (architectures, runtimes) = if kind == "function" {
            ("Architectures", "Runtime")
        } else {
            ("CompatibleArchitectures", "CompatibleRuntimes")
        };
        let inherited = |name: &str| {
            if key == "CodeUri" && matches!(properties[name], yaml_rust2::Yaml::BadValue) {
                &globals[name]
            } else {
                &properties[name]
            }
        };
        // Plain strings, one or a list; `None` for anything else (`{"Ref": ...}`, `{"Fn::If": ...}`).
        let listed = |value: &yaml_rust2::Yaml| -> Option<Vec<String>> {
            match value {
                yaml_rust2::Yaml::BadValue => Some(Vec::new()),
                yaml_rust2::Yaml::Array(list) => list.iter().map(|item| item.as_str().map(str::to_string)).collect(),
                other => other.as_str().map(|text| vec![text.to_string()]),
            }
        };
        let (Some(named_architectures), Some(named_runtimes)) =
            (listed(inherited(architectures)), listed(inherited(runtimes)))
        else {
            warn_user!(
                "`{id}` in `{shown}`: its `{architectures}` or `{runtimes}` is not a plain value lbuild can read (a \
                 `Ref` or `Fn::If`?); its `{key}` is left as it is"
            );
            continue;
        };
        if named_architectures.iter().any(|name| crate::platform::Architecture::from_str(name).is_err())
            || named_runtimes.iter().any(|name| crate::platform::Runtime::from_name(name).is_none())
        {
            warn_user!(
                "`{id}` in `{shown}`: its `{architectures}` or `{runtimes}` is not a plain value lbuild can read (a \
                 `!Ref` or `!If`?); its `{key}` is left as it is"
            );
            continue;
        }
        if named_architectures.len() > 1 {
            warn_user!(
                "`{id}` in `{shown}` names several architectures, and lbuild builds one zip per architecture: give it \
                 one (a resource per architecture); its `{key}` is left as it is"
            );
            continue;
        }
        // What deploys is what the template says, SAM's default x86_64 without a word: an ID
        // that names another architecture is a template to fix, not a guess to make.
        let architecture = named_architectures.first().cloned().unwrap_or_else(|| "x86_64".to_string());
        if let Some(implied) = implied.filter(|implied| *implied != architecture) {
            warn_user!(
                "`{id}` in `{shown}`: its logical ID names {implied}, but it deploys on {architecture}{}; set \
                 `{architectures}: [{implied}]`, or rename it. Its `{key}` is left as it is",
                if named_architectures.is_empty() { " (SAM's default)" } else { "" }
            );
            continue;
        }
        let zips: Vec<&Artifact> = manifest
            .artifacts
            .iter()
            .filter(|artifact| {
                artifact.kind == kind && artifact.name == member && artifact.architecture == architecture
            })
            .filter(|artifact| named_runtimes.is_empty() || named_runtimes.contains(&artifact.runtime))
            .collect();
        let [chosen] = zips.as_slice() else {
            let why = if zips.is_empty() { "has no zip" } else { "has several zips (one per runtime)" };
            warn_user!(
                "`{id}` in `{shown}`: the last build {why} of {kind} `{member}` for {architecture}{}; its `{key}` is left \
                 as it is{}",
                if named_runtimes.is_empty() { String::new() } else { format!(" and {}", named_runtimes.join(", ")) },
                if zips.len() > 1 { format!(" (name one in `{runtimes}`)") } else { String::new() }
            );
            continue;
        };
        values.insert(
            Place { resource: id.to_string(), key: key.to_string() },
            code_location(chosen, key, || {
                crate::fsutil::relative_from(
                    &template_dir,
                    &crate::fsutil::absolute_normalized(&out_dir.join(&chosen.path)),
                )
            }),
        );
    }
    let (rewritten, left) = crate::interop::sam::rewrite(&text, &values)
        .map_err(|why| miette::miette!("cannot rewrite the template `{}`: {why}", path.display()))?;
    for (place, why) in left {
        let inherits = place.key == "CodeUri" && !matches!(globals["CodeUri"], yaml_rust2::Yaml::BadValue);
        let why = if inherits && why.starts_with("it has no") {
            "it takes its `CodeUri` from `Globals`".to_string()
        } else {
            why
        };
        warn_user!(
            "`{}` in `{}` is not rewritten: {why}; set its `{}` to `{}` yourself",
            place.resource,
            path.display(),
            place.key,
            values[&place]
        );
    }
    Ok(format!("{bom}{rewritten}"))
}

/// Where a template's `key` points a zip, as YAML: the object `lbuild publish` put it in when it
/// did (`s3://BUCKET/KEY` for SAM's `CodeUri`/`ContentUri`, `{S3Bucket, S3Key}` for
/// CloudFormation's `Code`/`Content`), else the local zip (`local`, relative to the template).
fn code_location(artifact: &Artifact, key: &str, local: impl FnOnce() -> String) -> String {
    match (&artifact.s3_bucket, &artifact.s3_key) {
        (Some(bucket), Some(object)) if key == "Code" || key == "Content" => {
            // Quoted keys: the same text is a YAML and a JSON mapping, and templates are either.
            format!("{{\"S3Bucket\": {}, \"S3Key\": {}}}", quoted(bucket), quoted(object))
        }
        (Some(bucket), Some(object)) => quoted(&format!("s3://{bucket}/{object}")),
        _ => quoted(&local()),
    }
}

/// The workspace member a template resource is, and the architecture its logical ID names:
/// by logical ID (`ApiFunction`, `ApiArm64Function` as the fragment writes it, `ABFunction` for
/// `a-b`: letters and digits compared without case), else the one member whose only source
/// directory the resource's code path names (relative to the template, as SAM reads it).
fn template_member(
    workspace: &crate::manifest::Workspace,
    manifest: &BuildManifest,
    kind: &str,
    id: &str,
    suffix: &str,
    code: &yaml_rust2::Yaml,
    template_dir: &std::path::Path,
) -> Result<(String, Option<String>), String> {
    let letters =
        |text: &str| text.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
    let wanted = letters(id.strip_suffix(suffix).filter(|rest| !rest.is_empty()).unwrap_or(id));
    let mut by_id: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    for artifact in manifest.artifacts.iter().filter(|artifact| artifact.kind == kind) {
        let name = letters(&artifact.name);
        let architecture = letters(&artifact.architecture);
        if wanted == name {
            by_id.insert((artifact.name.clone(), None));
        } else if wanted == format!("{name}{architecture}")
            || wanted == format!("{name}{}{architecture}", letters(&artifact.runtime))
        {
            by_id.insert((artifact.name.clone(), Some(artifact.architecture.clone())));
        }
    }
    // The members whose only source directory the code path names (from the template's
    // directory, as SAM reads it).
    let members: Vec<(&str, &Vec<crate::manifest::SourcePath>)> = match kind {
        "function" => workspace.functions.iter().map(|f| (f.name.as_str(), &f.sources)).collect(),
        _ => workspace.layers.iter().map(|l| (l.name.as_str(), &l.sources)).collect(),
    };
    let written = code.as_str().unwrap_or_default();
    let matching: Vec<&str> = match code.as_str() {
        Some(written) => {
            let wanted = crate::fsutil::absolute_normalized(&template_dir.join(written));
            members
                .into_iter()
                .filter(|(_, sources)| {
                    sources.len() == 1
                        && crate::fsutil::absolute_normalized(&workspace.root.join(&sources[0].path)) == wanted
                })
                .map(|(name, _)| name)
                .collect()
        }
        None => Vec::new(),
    };
    match by_id.len() {
        1 => {
            let (name, implied) = by_id.into_iter().next().expect("one");
            // An ID and a code directory that name two members: which one is meant is unclear.
            if !matching.is_empty() && !matching.contains(&name.as_str()) {
                return Err(format!(
                    "its logical ID names {kind} `{name}`, but its code path `{written}` is the source of `{}`",
                    matching.join("`, `")
                ));
            }
            return Ok((name, implied));
        }
        0 => {}
        _ => return Err(format!("its logical ID fits several {kind}s of the last build")),
    }
    match matching.as_slice() {
        [one] => Ok((one.to_string(), None)),
        [] => Err(format!("it is no {kind} of the last build")),
        several => Err(format!(
            "`{written}` is the source of {}; name the resource after the one it is (`{}{suffix}`)",
            several.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(" and "),
            several[0]
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(|word| {
                    let mut chars = word.chars();
                    chars
                        .next()
                        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                        .unwrap_or_default()
                })
                .collect::<String>()
        )),
    }
}

/// The fragment: a resource per zip of the last build.
fn fragment(
    workspace: &crate::manifest::Workspace,
    out_dir: &std::path::Path,
    manifest: &BuildManifest,
    plain: bool,
) -> miette::Result<String> {
    // SAM's resource types and keys, or plain CloudFormation's (whose `Code`/`Content` paths
    // `aws cloudformation package` uploads).
    let (format, function_type, layer_type, code_key, content_key) = if plain {
        ("cfn", "AWS::Lambda::Function", "AWS::Lambda::LayerVersion", "Code", "Content")
    } else {
        ("sam", "AWS::Serverless::Function", "AWS::Serverless::LayerVersion", "CodeUri", "ContentUri")
    };
    let shown = |artifact: &Artifact| relative(&workspace.root, &out_dir.join(&artifact.path));
    // A layer built for several runtimes on one architecture needs its runtime in its ID; a
    // function has one runtime, so its ID stays when the runtime changes (an upgrade updates the
    // function instead of replacing it).
    let several_runtimes = layers_of_several_runtimes(manifest);
    let logical_id = |artifact: &Artifact| {
        let several = several_runtimes.contains(&(artifact.name.as_str(), artifact.architecture.as_str()));
        logical_id(artifact, artifact.kind == "layer" && several)
    };
    // Every logical ID once, and every layer a function uses in the fragment too.
    let mut ids: std::collections::BTreeMap<String, &Artifact> = std::collections::BTreeMap::new();
    for artifact in &manifest.artifacts {
        if let Some(other) = ids.insert(logical_id(artifact), artifact) {
            miette::bail!(
                help = "CloudFormation IDs keep only letters and digits; rename one of them in lambda.toml",
                "{} `{}` and {} `{}` would both be `{}` in the template",
                other.kind,
                other.name,
                artifact.kind,
                artifact.name,
                logical_id(artifact)
            );
        }
    }
    for artifact in &manifest.artifacts {
        for layer in artifact.layers.as_deref().unwrap_or_default() {
            let id = logical_id(&Artifact { name: layer.clone(), kind: "layer".into(), ..artifact.clone() });
            if !ids.contains_key(&id) {
                miette::bail!(
                    help = format!(
                        "build the layer too (`lbuild build` without `-p`, or add `-p {layer}`), then export again"
                    ),
                    "function `{}` uses layer `{layer}`, but the last build did not write that layer's zip for {} {}",
                    artifact.name,
                    artifact.runtime,
                    artifact.architecture
                );
            }
        }
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Generated by `lbuild export --format {format}` from {}.",
        relative(&workspace.root, &out_dir.join(MANIFEST_NAME))
    );
    out.push_str("# Paths are relative to the directory of lambda.toml; add Role, Events and the rest yourself.\n");
    out.push_str("AWSTemplateFormatVersion: \"2010-09-09\"\n");
    if !plain {
        out.push_str("Transform: AWS::Serverless-2016-10-31\n");
    }
    out.push_str("Resources:\n");
    for artifact in &manifest.artifacts {
        let id = logical_id(artifact);
        let _ = writeln!(out, "  {id}:");
        if artifact.kind == "layer" {
            let _ = writeln!(out, "    Type: {layer_type}\n    Properties:");
            let _ = writeln!(out, "      LayerName: {}", quoted(&layer_name(artifact)));
            let _ = writeln!(out, "      {content_key}: {}", code_location(artifact, content_key, || shown(artifact)));
            let _ = writeln!(out, "      CompatibleRuntimes: [{}]", quoted(&artifact.runtime));
            let _ = writeln!(out, "      CompatibleArchitectures: [{}]", quoted(&artifact.architecture));
        } else {
            let _ = writeln!(out, "    Type: {function_type}\n    Properties:");
            let _ = writeln!(out, "      {code_key}: {}", code_location(artifact, code_key, || shown(artifact)));
            match &artifact.handler {
                Some(handler) => {
                    let _ = writeln!(out, "      Handler: {}", quoted(handler));
                }
                None => warn_user!(
                    "function `{}` has no `handler` in lambda.toml, so `{id}` has no Handler, which a zip function \
                     needs to deploy; set `handler = \"module.function\"` for it",
                    artifact.name
                ),
            }
            let _ = writeln!(out, "      Runtime: {}", quoted(&artifact.runtime));
            let _ = writeln!(out, "      Architectures: [{}]", quoted(&artifact.architecture));
            let layers = artifact.layers.as_deref().unwrap_or_default();
            if !layers.is_empty() || !artifact.external_layers.is_empty() {
                out.push_str("      Layers:\n");
                for layer in layers {
                    let layer_id =
                        logical_id(&Artifact { name: layer.clone(), kind: "layer".into(), ..artifact.clone() });
                    let _ = writeln!(out, "        - !Ref {layer_id}");
                }
                for arn in &artifact.external_layers {
                    // `${AWS::Region}` and other placeholders are substituted only in `Fn::Sub`.
                    let sub = if arn.contains("${") { "!Sub " } else { "" };
                    let _ = writeln!(out, "        - {sub}{}", quoted(arn));
                }
            }
        }
    }
    Ok(out)
}

/// The name a layer zip is published under: `base-python312-arm64`. Lambda takes at most 140
/// characters, which a long member name and its suffix can exceed: the name is then cut, with
/// eight hex digits of its sha256 so that two long names stay apart.
fn layer_name(artifact: &Artifact) -> String {
    const MAX: usize = 140;
    let suffix = format!("-{}-{}", artifact.runtime.replace('.', ""), artifact.architecture);
    if artifact.name.len() + suffix.len() <= MAX {
        return format!("{}{suffix}", artifact.name);
    }
    let digest = &crate::cache::sha256_hex(artifact.name.as_bytes())[..8];
    let keep = MAX - suffix.len() - digest.len() - 1;
    // Member names are ASCII, but cut on a character boundary all the same.
    let cut = (0..=keep).rev().find(|&at| artifact.name.is_char_boundary(at)).unwrap_or_default();
    format!("{}-{digest}{suffix}", &artifact.name[..cut])
}

/// `api` on arm64 -> `ApiArm64Function` (`ApiPython312Arm64Function` with `runtime`): letters
/// and digits, as CloudFormation wants.
fn logical_id(artifact: &Artifact, runtime: bool) -> String {
    let mut id = String::new();
    let words =
        [artifact.name.as_str(), if runtime { artifact.runtime.as_str() } else { "" }, artifact.architecture.as_str()];
    for word in words {
        for part in word.split(|c: char| !c.is_ascii_alphanumeric()).filter(|part| !part.is_empty()) {
            let mut chars = part.chars();
            if let Some(first) = chars.next() {
                id.push(first.to_ascii_uppercase());
                id.extend(chars);
            }
        }
    }
    id.push_str(if artifact.kind == "layer" { "Layer" } else { "Function" });
    id
}

/// The Terraform JSON (`.tf.json`) for the last build: an `aws_lambda_layer_version` resource
/// per layer zip, and a local `lbuild_functions` with what each function zip's
/// `aws_lambda_function` needs (its `filename`, `source_code_hash`, `handler`, `runtime`,
/// `architectures` and `layers`, the workspace layers' ARNs then the external ones), which the
/// user's own resource, with its role and the rest, reads. Paths are under `${path.module}`: the
/// file belongs in the workspace root.
pub fn terraform_json(options: &SamOptions) -> miette::Result<String> {
    let (workspace, out_dir, manifest) = last_build(options)?;
    let several_runtimes = layers_of_several_runtimes(&manifest);
    // `api_arm64`; a layer of two runtimes on one architecture `base_python3_12_arm64`. Names
    // start with a letter or `_` in Terraform.
    let key = |name: &str, runtime: &str, architecture: &str, kind: &str| {
        let several = kind == "layer" && several_runtimes.contains(&(name, architecture));
        let mut key =
            if several { format!("{name}_{runtime}_{architecture}") } else { format!("{name}_{architecture}") };
        key = key.replace('.', "_");
        if !key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
            key.insert(0, '_');
        }
        key
    };
    // `${` and `%{` start an interpolation and a directive in Terraform strings: a path's or a
    // key's own are written `$${` and `%%{`.
    let literal = |text: &str| text.replace("${", "$${").replace("%{", "%%{");
    let filename = |artifact: &Artifact| {
        let zip = crate::fsutil::absolute_normalized(&out_dir.join(&artifact.path));
        let shown = crate::fsutil::relative_from(&crate::fsutil::absolute_normalized(&workspace.root), &zip);
        let shown = literal(&shown);
        if std::path::Path::new(&shown).is_absolute() { shown } else { format!("${{path.module}}/{shown}") }
    };
    // The published object (`s3_bucket`, `s3_key`) once `lbuild publish` put the zip there, else
    // the local `filename`.
    let located = |mut value: serde_json::Value, artifact: &Artifact| {
        match (&artifact.s3_bucket, &artifact.s3_key) {
            (Some(bucket), Some(key)) => {
                value["s3_bucket"] = serde_json::json!(literal(bucket));
                value["s3_key"] = serde_json::json!(literal(key));
            }
            _ => value["filename"] = serde_json::json!(filename(artifact)),
        }
        value
    };
    let mut layers = serde_json::Map::new();
    let mut functions = serde_json::Map::new();
    for artifact in &manifest.artifacts {
        let id = key(&artifact.name, &artifact.runtime, &artifact.architecture, &artifact.kind);
        if artifact.kind == "layer" {
            let value = serde_json::json!({
                "layer_name": layer_name(artifact),
                "source_code_hash": artifact.base64_sha256,
                "compatible_runtimes": [artifact.runtime],
                "compatible_architectures": [artifact.architecture],
            });
            let value = located(value, artifact);
            if layers.insert(id.clone(), value).is_some() {
                miette::bail!("two layer zips would both be `aws_lambda_layer_version.{id}`");
            }
        } else {
            let mut arns: Vec<String> = artifact
                .layers
                .iter()
                .flatten()
                .map(|layer| {
                    format!(
                        "${{aws_lambda_layer_version.{}.arn}}",
                        key(layer, &artifact.runtime, &artifact.architecture, "layer")
                    )
                })
                .collect();
            arns.extend(artifact.external_layers.iter().cloned());
            if artifact.handler.is_none() {
                warn_user!(
                    "function `{}` has no `handler` in lambda.toml, so `local.lbuild_functions.{id}.handler` is null, \
                     which a zip function needs to deploy; set `handler = \"module.function\"` for it",
                    artifact.name
                );
            }
            let value = serde_json::json!({
                "source_code_hash": artifact.base64_sha256,
                "handler": artifact.handler,
                "runtime": artifact.runtime,
                "architectures": [artifact.architecture],
                "layers": arns,
            });
            let value = located(value, artifact);
            if functions.insert(id.clone(), value).is_some() {
                miette::bail!("two function zips would both be `local.lbuild_functions.{id}`");
            }
        }
    }
    let mut document = serde_json::json!({
        "//": format!(
            "Generated by `lbuild export --format terraform` from {}; write it in the workspace root.",
            relative(&workspace.root, &out_dir.join(MANIFEST_NAME))
        ),
        "locals": { "lbuild_functions": functions },
    });
    if !layers.is_empty() {
        document["resource"] = serde_json::json!({ "aws_lambda_layer_version": layers });
    }
    let mut text = serde_json::to_string_pretty(&document).expect("serializes");
    text.push('\n');
    Ok(text)
}

/// The (layer, architecture) pairs the build has zips of for more than one runtime: their
/// names in a template or Terraform file need the runtime too.
fn layers_of_several_runtimes(manifest: &BuildManifest) -> BTreeSet<(&str, &str)> {
    let mut runtimes: BTreeMap<(&str, &str), BTreeSet<&str>> = BTreeMap::new();
    for artifact in manifest.artifacts.iter().filter(|artifact| artifact.kind == "layer") {
        runtimes.entry((&artifact.name, &artifact.architecture)).or_default().insert(&artifact.runtime);
    }
    runtimes.into_iter().filter(|(_, set)| set.len() > 1).map(|(pair, _)| pair).collect()
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("strings serialize")
}

/// Options of `lbuild export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub global: GlobalOptions,
    /// `--target python3.12-arm64`.
    pub target: String,
    /// `-p NAME`: only what the zips of these functions (with their layers) or layers hold.
    pub packages: Vec<String>,
}

/// Produce the `requirements.txt` text (relocking first if the lock is stale).
pub fn export(options: &ExportOptions) -> miette::Result<String> {
    if parse_target_name(&options.target).is_none() {
        miette::bail!(
            help = "targets are named `RUNTIME-ARCH`, for example `python3.12-arm64` or `python3.11-x86_64`",
            "`{}` is not a target name",
            options.target
        );
    }
    let (workspace, lock) = options.global.locked_workspace()?;
    find_target(&lock, &options.target)?;
    let plan = BuildPlan::new(&workspace, &lock)?;
    // What the zips of the chosen members hold, exactly as `lbuild build` zips them: a
    // function's layers are part of what it deploys with, and what the runtime provides is
    // named in a comment only.
    let mut zips = Vec::new();
    if options.packages.is_empty() {
        zips.extend(plan.zips.iter().filter(|zip| zip.target == options.target));
    } else {
        for name in &options.packages {
            let member = find_member(&workspace, name)?;
            let Some(zip) = plan.zip(&member, &options.target) else {
                if member.name == crate::model::SHARED_LAYER && workspace.member(&member.name).is_none() {
                    miette::bail!(
                        help = "`shared-layer = \"auto\"` generates it only on targets where two or more functions \
                                share a package",
                        "the generated layer `shared` is empty on `{}`: no two functions share a package there",
                        options.target
                    );
                }
                let deploys: Vec<_> = lock
                    .targets
                    .iter()
                    .filter(|target| target.members.contains_key(&member.key()))
                    .map(|target| format!("`{}`", target.name))
                    .collect();
                miette::bail!(
                    help = format!("it deploys on {}", deploys.join(", ")),
                    "{member} does not deploy on `{}`",
                    options.target
                );
            };
            zips.push(zip);
            zips.extend(plan.layers_of(zip));
        }
    }
    // Each package with the (group) entry its zips hold. Resolved per function, two zips may
    // hold two versions of a package, which one requirements file cannot say.
    let mut closure: BTreeMap<&str, (&LockedPackage, &PackageTarget, &ZipPlan)> = BTreeMap::new();
    for zip in &zips {
        for name in &zip.packages {
            let Some((package, entry)) = lock.package_on(name, &options.target, zip.group.as_deref()) else { continue };
            match closure.get(name.as_str()) {
                Some((held, _, other)) if held.version != package.version => {
                    miette::bail!(
                        help = "the functions are resolved apart (`resolution` or `isolated` in lambda.toml); export them one at a time with `-p NAME`",
                        "{} holds `{name}=={}` and {} holds `{name}=={}` on {}, which one requirements file cannot pin both",
                        other.member,
                        held.version,
                        zip.member,
                        package.version,
                        options.target
                    );
                }
                Some(_) => {}
                None => {
                    closure.insert(name, (package, entry, zip));
                }
            }
        }
    }
    let runtime: BTreeSet<&str> = zips
        .iter()
        .flat_map(|zip| zip.provided.iter())
        .filter(|(name, provided)| **provided == Provided::Runtime && !closure.contains_key(name.as_str()))
        .map(|(name, _)| name.as_str())
        .collect();
    let external: BTreeSet<String> = zips
        .iter()
        .flat_map(|zip| zip.provided.iter())
        .filter(|(name, provided)| matches!(provided, Provided::External(_)) && !closure.contains_key(name.as_str()))
        .map(|(name, provided)| format!("{name} ({provided})"))
        .collect();
    let mut out = String::new();
    let scope =
        if options.packages.is_empty() { "the whole workspace".to_string() } else { options.packages.join(", ") };
    let lock_name = crate::session::lock_path(&workspace);
    let lock_name = lock_name.file_name().map(|name| name.to_string_lossy()).unwrap_or_default();
    let _ = writeln!(out, "# Exported by lbuild from {lock_name} for {} ({scope}).", options.target);
    if !runtime.is_empty() {
        let names: Vec<&str> = runtime.into_iter().collect();
        let _ = writeln!(out, "# Left out, the Lambda runtime provides them: {}.", names.join(", "));
    }
    if !external.is_empty() {
        let names: Vec<String> = external.into_iter().collect();
        let _ = writeln!(out, "# Left out, external layers provide them: {}.", names.join(", "));
    }
    for (package, entry, _) in closure.into_values() {
        if let Some(path) = &package.path {
            // A path line, relative to the workspace root (where lambda.toml is).
            let _ = writeln!(out, "# {} {} is a local package", package.name, package.version);
            let _ = writeln!(out, "./{path}");
        } else if let Some(wheel) = &entry.wheel {
            let _ = writeln!(out, "{}=={} \\\n    --hash=sha256:{}", package.name, package.version, wheel.sha256);
        } else if let Some(gap) = &entry.gap {
            let _ = writeln!(out, "# gap ({}): {}", gap.reason, gap.detail);
            match &gap.sdist {
                Some(sdist) => {
                    let _ =
                        writeln!(out, "{}=={} \\\n    --hash=sha256:{}", package.name, package.version, sdist.sha256);
                }
                None => {
                    let _ = writeln!(out, "# {}=={} has no file for this target", package.name, package.version);
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_layer_name_stays_within_lambdas_140_characters_and_long_names_stay_apart() {
        let layer = |name: &str| -> Artifact {
            serde_json::from_value(serde_json::json!({
                "name": name, "kind": "layer", "runtime": "python3.12", "architecture": "x86_64",
                "path": "layers/x.zip", "sha256": "", "base64_sha256": "", "size": 0, "unzipped_size": 0,
            }))
            .unwrap()
        };
        assert_eq!(layer_name(&layer("base")), "base-python312-x86_64");
        let (a, b) = ("l".repeat(139) + "a", "l".repeat(139) + "b");
        let (a, b) = (layer_name(&layer(&a)), layer_name(&layer(&b)));
        assert_eq!((a.len(), b.len()), (140, 140));
        assert!(a != b && a.ends_with("-python312-x86_64"), "{a} {b}");
        let exact = "l".repeat(140 - "-python312-x86_64".len());
        assert_eq!(layer_name(&layer(&exact)), format!("{exact}-python312-x86_64"), "as long as fits, kept");
    }
}

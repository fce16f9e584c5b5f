//! What `lbuild export --format sam|cfn` writes, checked by the real tools: cfn-lint and the AWS
//! SAM translator (`support/sam_translate.py`), from the venv `.ci/run` installs them into
//! (`LBUILD_TEST_CFN_LINT`: that venv's `bin` directory, or its `python`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

/// cfn-lint and the SAM translator's Python.
struct CfnTools {
    cfn_lint: PathBuf,
    python: PathBuf,
}

fn cfn_tools_or_skip() -> Option<CfnTools> {
    let Some(given) = std::env::var_os("LBUILD_TEST_CFN_LINT") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install cfn-lint and aws-sam-translator into LBUILD_TEST_CFN_LINT (.ci/run)"
        );
        eprintln!("skipping: LBUILD_TEST_CFN_LINT is not set (`.ci/run` installs cfn-lint and aws-sam-translator)");
        return None;
    };
    // The venv's bin directory, or a python in it (not canonicalized: a venv's python is a
    // symlink out of it).
    let given = PathBuf::from(given);
    let (bin, python) = if given.is_dir() {
        (given.clone(), given.join("python"))
    } else {
        (given.parent().expect("a python inside a bin directory").to_path_buf(), given.clone())
    };
    let tools = CfnTools { cfn_lint: bin.join("cfn-lint"), python };
    assert!(
        tools.cfn_lint.is_file() && tools.python.is_file(),
        "LBUILD_TEST_CFN_LINT={} is no venv with cfn-lint and python in it",
        given.display()
    );
    Some(tools)
}

impl CfnTools {
    /// Run a tool with a fixed region and no AWS profile or config of the machine's.
    fn command(&self, program: &Path, dir: &Path) -> Command {
        let mut command = Command::new(program);
        command
            .current_dir(dir)
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .env_remove("AWS_PROFILE")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
        command
    }

    /// cfn-lint on `template` (relative to `dir`): any finding, error, warning or informational,
    /// fails, except the rules in `ignore`.
    #[track_caller]
    fn lint(&self, dir: &Path, template: &str, ignore: &[&str]) {
        let mut command = self.command(&self.cfn_lint, dir);
        command.args(["--regions", "us-east-1"]);
        if !ignore.is_empty() {
            command.arg("--ignore-checks").args(ignore);
        }
        let output = command.arg("--").arg(template).output().expect("cfn-lint runs");
        assert!(
            output.status.success(),
            "cfn-lint {template} exited {:?}:\n{}{}\n--- {template}:\n{}",
            output.status.code(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
            fs_err::read_to_string(dir.join(template)).unwrap_or_default()
        );
    }

    /// `template` (relative to `dir`) packaged as `sam package` would (each local zip on S3 under
    /// its SHA-256) and translated to CloudFormation by the SAM translator.
    #[track_caller]
    fn translate(&self, dir: &Path, template: &str) -> Value {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/sam_translate.py");
        let output = self.command(&self.python, dir).arg(script).arg(template).output().expect("python runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the SAM translator refused {template}:\n{}\n--- {template}:\n{}",
            String::from_utf8_lossy(&output.stderr),
            fs_err::read_to_string(dir.join(template)).unwrap_or_default()
        );
        serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("sam_translate.py printed {stdout:?}: {err}"))
    }
}

/// A layer used on both architectures, an arm64 function and two x86_64 ones (one written as a
/// plain `AWS::Lambda::Function` in the template).
const MANIFEST: &str = r#"[workspace]
index-url = "{index}"
runtime = "python3.12"
architectures = ["x86_64", "arm64"]

[layer.common]
requirements = ["one"]

[function.api]
source = "functions/api"
handler = "app.handler"
requirements = ["two"]
layers = ["common"]
architecture = "arm64"

[function.worker]
source = "functions/worker"
handler = "worker.handler"
layers = ["common"]
architecture = "x86_64"

[function.cron]
source = "functions/cron"
handler = "cron.handler"
architecture = "x86_64"
"#;

/// A template as people write them: Parameters, Conditions, Globals, intrinsics everywhere,
/// events, a role, a resource per layer architecture, and a plain CloudFormation function whose
/// `Code` is a local path (as `sam deploy` and `aws cloudformation package` take it).
const TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: Orders service (lbuild export --template round trip)

Parameters:
  Stage:
    Type: String
    AllowedValues: [dev, prod]
    Default: dev
  LogLevel:
    Type: String
    Default: INFO

Conditions:
  IsProd: !Equals [!Ref Stage, prod]

# Shared by every AWS::Serverless::Function.
Globals:
  Function:
    Runtime: python3.12
    Timeout: 10
    MemorySize: 256
    Environment:
      Variables:
        LOG_LEVEL: !Ref LogLevel
        STAGE: !Ref Stage

Resources:
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api/   # the HTTP API
      Handler: app.handler
      Architectures: [arm64]
      Layers: [!Ref CommonArm64Layer]
      Role: !GetAtt FunctionRole.Arn
      Events:
        Hello:
          Type: Api
          Properties:
            Path: /hello
            Method: get

  WorkerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ./functions/worker
      Handler: worker.handler
      Architectures:
        - x86_64
      Timeout: 60
      Layers:
        - !Ref CommonX8664Layer
      Role: !GetAtt FunctionRole.Arn
      Events:
        Nightly:
          Type: Schedule
          Properties:
            Schedule: rate(1 day)
            Enabled: !If [IsProd, true, false]

  CommonArm64Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub "common-${Stage}-arm64"
      ContentUri: layers/common
      CompatibleRuntimes: [python3.12]
      CompatibleArchitectures: [arm64]

  CommonX8664Layer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      LayerName: !Sub "common-${Stage}-x86_64"
      ContentUri: "layers/common"
      CompatibleRuntimes:
        - python3.12
      CompatibleArchitectures:
        - x86_64

  CronFunction:
    Type: AWS::Lambda::Function
    Properties:
      Code: functions/cron
      Handler: cron.handler
      Runtime: python3.12
      Architectures: [x86_64]
      Role: !GetAtt FunctionRole.Arn
      Timeout: 30

  CronSchedule:
    Type: AWS::Events::Rule
    Condition: IsProd
    Properties:
      ScheduleExpression: cron(0 3 * * ? *)
      Targets:
        - Arn: !GetAtt CronFunction.Arn
          Id: cron

  CronPermission:
    Type: AWS::Lambda::Permission
    Condition: IsProd
    Properties:
      Action: lambda:InvokeFunction
      FunctionName: !Ref CronFunction
      Principal: events.amazonaws.com
      SourceArn: !GetAtt CronSchedule.Arn

  FunctionRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Principal:
              Service: lambda.amazonaws.com
            Action: sts:AssumeRole
      ManagedPolicyArns:
        - !Sub "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"

Outputs:
  ApiUrl:
    Description: The hello endpoint
    Value: !Sub "https://${ServerlessRestApi}.execute-api.${AWS::Region}.amazonaws.com/Prod/hello"
  WorkerArn:
    Value: !GetAtt WorkerFunction.Arn
    Export:
      Name: !Sub "${AWS::StackName}-worker"
"#;

fn built_workspace() -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("one", "1.0"), PackageSpec::new("two", "2.0")]),
        IndexOptions::default(),
    );
    let workspace = Workspace::new(&index, Api::Json, MANIFEST);
    for (dir, file, handler) in [
        ("functions/api", "app.py", "handler"),
        ("functions/worker", "worker.py", "handler"),
        ("functions/cron", "cron.py", "handler"),
    ] {
        let dir = workspace.path().join(dir);
        fs_err::create_dir_all(&dir).unwrap();
        fs_err::write(dir.join(file), format!("def {handler}(event, context):\n    return {{\"statusCode\": 200}}\n"))
            .unwrap();
    }
    workspace.run(&["build"]).ok();
    (index, workspace)
}

/// The manifest's `sha256` of the zip at `path` (relative to target/lambda).
fn sha256_of(workspace: &Workspace, path: &str) -> String {
    let manifest: Value =
        serde_json::from_str(&fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    let artifact = manifest["artifacts"].as_array().unwrap().iter().find(|a| a["path"] == path);
    artifact.unwrap_or_else(|| panic!("no {path} in {manifest}"))["sha256"].as_str().unwrap().to_string()
}

/// The translated resource whose logical ID is `id`, or starts with it (SAM suffixes a layer's
/// ID with a hash of its content).
fn resource<'a>(translated: &'a Value, id: &str) -> (&'a str, &'a Value) {
    let resources = translated["Resources"].as_object().expect("Resources");
    let found = resources.get_key_value(id).or_else(|| {
        let mut matching = resources.iter().filter(|(key, _)| key.starts_with(id));
        let one = matching.next();
        assert!(matching.next().is_none(), "several resources start with {id}: {translated:#}");
        one
    });
    let (key, value) = found.unwrap_or_else(|| panic!("no resource {id} in {translated:#}"));
    (key.as_str(), value)
}

/// Marks the last build as `lbuild publish` does (tests/it/publish.rs checks the real upload), so
/// export writes S3 locations: `s3://` URIs for SAM, `{S3Bucket, S3Key}` for CloudFormation.
fn mark_published(workspace: &Workspace, bucket: &str) {
    let path = workspace.path().join("target/lambda/manifest.json");
    let mut manifest: Value = serde_json::from_str(&fs_err::read_to_string(&path).unwrap()).unwrap();
    for artifact in manifest["artifacts"].as_array_mut().unwrap() {
        let key = format!("lambda/{}/{}.zip", artifact["name"].as_str().unwrap(), artifact["sha256"].as_str().unwrap());
        artifact["s3_uri"] = Value::from(format!("s3://{bucket}/{key}"));
        artifact["s3_bucket"] = Value::from(bucket);
        artifact["s3_key"] = Value::from(key);
    }
    fs_err::write(&path, serde_json::to_string_pretty(&manifest).unwrap()).unwrap();
}

#[test]
fn a_rich_sam_template_rewritten_by_export_passes_cfn_lint_and_the_sam_translator() {
    let Some(tools) = cfn_tools_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let dir = workspace.path();
    fs_err::write(dir.join("template.yaml"), TEMPLATE).unwrap();
    // The template itself is clean: whatever the tools find below, export brought in.
    tools.lint(dir, "template.yaml", &[]);

    let run = workspace.run(&["export", "--format", "sam", "--template", "template.yaml"]).ok();
    let expected = TEMPLATE
        .replace("CodeUri: functions/api/", "CodeUri: \"target/lambda/functions/api-python3.12-arm64.zip\"")
        .replace("CodeUri: ./functions/worker", "CodeUri: \"target/lambda/functions/worker-python3.12-x86_64.zip\"")
        .replace("ContentUri: layers/common\n", "ContentUri: \"target/lambda/layers/common-python3.12-arm64.zip\"\n")
        .replace("ContentUri: \"layers/common\"", "ContentUri: \"target/lambda/layers/common-python3.12-x86_64.zip\"")
        .replace("Code: functions/cron", "Code: \"target/lambda/functions/cron-python3.12-x86_64.zip\"");
    assert_eq!(run.stdout, expected, "{}", run.stderr);
    assert!(!run.stderr.contains("warning"), "every resource is rewritten:\n{}", run.stderr);
    fs_err::write(dir.join("out.yaml"), &run.stdout).unwrap();
    tools.lint(dir, "out.yaml", &[]);

    // Each function deploys its own zip on its architecture, with the layer zip of that
    // architecture; Globals still apply.
    let translated = tools.translate(dir, "out.yaml");
    let zips = [
        ("ApiFunction", "functions/api-python3.12-arm64.zip", "arm64", Some("CommonArm64Layer")),
        ("WorkerFunction", "functions/worker-python3.12-x86_64.zip", "x86_64", Some("CommonX8664Layer")),
        ("CronFunction", "functions/cron-python3.12-x86_64.zip", "x86_64", None),
    ];
    for (id, zip, architecture, layer) in zips {
        let (_, function) = resource(&translated, id);
        let properties = &function["Properties"];
        assert_eq!(function["Type"], "AWS::Lambda::Function", "{id}: {function:#}");
        assert_eq!(properties["Code"]["S3Key"], format!("{}.zip", sha256_of(&workspace, zip)).as_str(), "{id}");
        assert_eq!(properties["Architectures"], serde_json::json!([architecture]), "{id}");
        assert_eq!(properties["Runtime"], "python3.12", "{id}");
        if let Some(layer) = layer {
            let (layer_id, version) = resource(&translated, layer);
            assert_eq!(properties["Layers"], serde_json::json!([{"Ref": layer_id}]), "{id}");
            let layer_zip = format!("layers/common-python3.12-{architecture}.zip");
            assert_eq!(
                version["Properties"]["Content"]["S3Key"],
                format!("{}.zip", sha256_of(&workspace, &layer_zip)).as_str()
            );
            assert_eq!(version["Properties"]["CompatibleArchitectures"], serde_json::json!([architecture]));
        }
    }
    let (_, worker) = resource(&translated, "WorkerFunction");
    assert_eq!(worker["Properties"]["Timeout"], 60);
    assert_eq!(worker["Properties"]["Environment"]["Variables"]["LOG_LEVEL"], serde_json::json!({"Ref": "LogLevel"}));

    // From a template in another directory, with paths up to the zips.
    fs_err::create_dir_all(dir.join("infra")).unwrap();
    let nested = TEMPLATE
        .replace("CodeUri: functions/", "CodeUri: ../functions/")
        .replace("CodeUri: ./functions/", "CodeUri: ../functions/")
        .replace("Code: functions/", "Code: ../functions/");
    fs_err::write(dir.join("infra/template.yaml"), nested).unwrap();
    let run = workspace.run(&["export", "--format", "sam", "--template", "infra/template.yaml"]).ok();
    assert!(run.stdout.contains("CodeUri: \"../target/lambda/functions/api-python3.12-arm64.zip\""), "{}", run.stdout);
    fs_err::write(dir.join("infra/out.yaml"), &run.stdout).unwrap();
    tools.lint(dir, "infra/out.yaml", &[]);
    tools.translate(dir, "infra/out.yaml");

    // After `lbuild publish`: SAM's URIs are `s3://` and the plain function's `Code` is
    // `{S3Bucket, S3Key}`, which both tools take as they are.
    mark_published(&workspace, "orders-artifacts");
    let run = workspace.run(&["export", "--format", "sam", "--template", "template.yaml"]).ok();
    let cron_key = format!("lambda/cron/{}.zip", sha256_of(&workspace, "functions/cron-python3.12-x86_64.zip"));
    assert!(
        run.stdout.contains(&format!("Code: {{\"S3Bucket\": \"orders-artifacts\", \"S3Key\": \"{cron_key}\"}}")),
        "{}",
        run.stdout
    );
    fs_err::write(dir.join("published.yaml"), &run.stdout).unwrap();
    tools.lint(dir, "published.yaml", &[]);
    let translated = tools.translate(dir, "published.yaml");
    let (_, cron) = resource(&translated, "CronFunction");
    assert_eq!(cron["Properties"]["Code"], serde_json::json!({"S3Bucket": "orders-artifacts", "S3Key": cron_key}));
    let (_, api) = resource(&translated, "ApiFunction");
    assert_eq!(api["Properties"]["Code"]["S3Bucket"], "orders-artifacts");
}

/// A JSON template stays JSON once its `Code` is `{"S3Bucket", "S3Key"}` (cfn-lint would take
/// YAML in a `.json` file, so the check is a JSON parse first).
#[test]
fn a_json_template_stays_json_when_its_code_points_at_s3() {
    let Some(tools) = cfn_tools_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let dir = workspace.path();
    let template = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {
            "CronFunction": {"Type": "AWS::Lambda::Function", "Properties": {
                "Code": "functions/cron", "Handler": "cron.handler", "Runtime": "python3.12",
                "Architectures": ["x86_64"], "Role": "arn:aws:iam::123456789012:role/lambda"}},
            "CommonX8664Layer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {
                "Content": "layers/common", "CompatibleRuntimes": ["python3.12"],
                "CompatibleArchitectures": ["x86_64"]}},
        },
    });
    fs_err::write(dir.join("template.json"), serde_json::to_string_pretty(&template).unwrap()).unwrap();
    mark_published(&workspace, "orders-artifacts");
    let run = workspace.run(&["export", "--format", "sam", "--template", "template.json"]).ok();
    let out: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|err| panic!("not JSON ({err}):\n{}", run.stdout));
    let cron_key = format!("lambda/cron/{}.zip", sha256_of(&workspace, "functions/cron-python3.12-x86_64.zip"));
    assert_eq!(
        out["Resources"]["CronFunction"]["Properties"]["Code"],
        serde_json::json!({"S3Bucket": "orders-artifacts", "S3Key": cron_key})
    );
    fs_err::write(dir.join("out.json"), &run.stdout).unwrap();
    tools.lint(dir, "out.json", &[]);
}

/// The fragments are whole templates (`Transform` for SAM's). `--format cfn` is checked without
/// E3003 (`Role` is required: the fragment says to add it) and W3002 (local `Code` paths need
/// `aws cloudformation package`, which is what that format is for).
#[test]
fn the_generated_fragments_pass_cfn_lint_and_the_sam_translator() {
    let Some(tools) = cfn_tools_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let dir = workspace.path();
    let sam = workspace.run(&["export", "--format", "sam"]).ok();
    fs_err::write(dir.join("fragment-sam.yaml"), &sam.stdout).unwrap();
    tools.lint(dir, "fragment-sam.yaml", &[]);
    let translated = tools.translate(dir, "fragment-sam.yaml");
    let (_, api) = resource(&translated, "ApiArm64Function");
    assert_eq!(api["Properties"]["Architectures"], serde_json::json!(["arm64"]));
    let cfn = workspace.run(&["export", "--format", "cfn"]).ok();
    fs_err::write(dir.join("fragment-cfn.yaml"), &cfn.stdout).unwrap();
    tools.lint(dir, "fragment-cfn.yaml", &["E3003", "W3002"]);
    // Published, the plain fragment's code is on S3 and W3002 has nothing to say.
    mark_published(&workspace, "orders-artifacts");
    let cfn = workspace.run(&["export", "--format", "cfn"]).ok();
    fs_err::write(dir.join("published-cfn.yaml"), &cfn.stdout).unwrap();
    tools.lint(dir, "published-cfn.yaml", &["E3003"]);
    let sam = workspace.run(&["export", "--format", "sam"]).ok();
    fs_err::write(dir.join("published-sam.yaml"), &sam.stdout).unwrap();
    tools.lint(dir, "published-sam.yaml", &[]);
    tools.translate(dir, "published-sam.yaml");
}

#[test]
fn terraform_writes_a_published_key_as_a_literal_string() {
    let (_index, workspace) = built_workspace();
    mark_published(&workspace, "orders-artifacts");
    let path = workspace.path().join("target/lambda/manifest.json");
    let text = fs_err::read_to_string(&path).unwrap().replace("\"s3_key\": \"lambda/", "\"s3_key\": \"p${x}%{y}/");
    fs_err::write(&path, text).unwrap();
    let tf: Value = serde_json::from_str(&workspace.run(&["export", "--format", "terraform"]).ok().stdout).unwrap();
    let key = tf["locals"]["lbuild_functions"]["cron_x86_64"]["s3_key"].as_str().unwrap().to_string();
    assert!(key.starts_with("p$${x}%%{y}/cron/"), "{key}");
}

//! `lbuild publish` against a real S3-compatible server: moto, started by each test on
//! 127.0.0.1 with SigV4 checking on, from the Python that `.ci/run` installs it into
//! (`LBUILD_TEST_MOTO_PYTHON`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::support::{FakeIndex, IndexOptions, PackageSpec, Scenario};
use crate::{Api, Workspace};

/// A moto server; it stops when this is dropped (its stdin closes).
struct S3 {
    child: Child,
    endpoint: String,
    key: String,
    secret: String,
    bucket: String,
    /// The stand-in for STS, the container endpoint and IMDS.
    credentials: String,
    role_arn: String,
}

impl S3 {
    /// The environment that signs with the test user's keys for this server, S3 at
    /// `endpoint_variable` (`AWS_ENDPOINT_URL_S3`, or `AWS_ENDPOINT_URL` for Lambda too).
    fn env<'a>(&'a self, endpoint_variable: &'a str) -> [(&'a str, &'a str); 3] {
        [
            ("AWS_ACCESS_KEY_ID", self.key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", self.secret.as_str()),
            (endpoint_variable, self.endpoint.as_str()),
        ]
    }

    /// Put `bytes` at `key` with boto3 (behind lbuild's back).
    fn put(&self, key: &str, bytes: &[u8]) {
        let python = std::env::var_os("LBUILD_TEST_MOTO_PYTHON").unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/moto_s3.py");
        let mut put = Command::new(python)
            .args([script, "put", &self.endpoint, &self.key, &self.secret, &self.bucket, key])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut put.stdin.take().unwrap(), bytes).unwrap();
        assert!(put.wait().unwrap().success());
    }

    /// The bytes of an object, read back with boto3.
    fn get(&self, key: &str) -> Vec<u8> {
        let python = std::env::var_os("LBUILD_TEST_MOTO_PYTHON").unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/moto_s3.py");
        let output = Command::new(python)
            .args([script, "get", &self.endpoint, &self.key, &self.secret, &self.bucket, key])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        output.stdout
    }
}

impl Drop for S3 {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn s3_or_skip() -> Option<S3> {
    let Some(python) = std::env::var_os("LBUILD_TEST_MOTO_PYTHON") else {
        assert!(std::env::var_os("CI").is_none(), "CI must install moto into LBUILD_TEST_MOTO_PYTHON (.ci/run)");
        eprintln!("skipping: LBUILD_TEST_MOTO_PYTHON is not set (`.ci/run` installs moto)");
        return None;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/support/moto_s3.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let info: Value = serde_json::from_str(&line).unwrap_or_else(|err| panic!("moto said {line:?}: {err}"));
    let field = |name: &str| info[name].as_str().unwrap().to_string();
    Some(S3 {
        endpoint: field("endpoint"),
        key: field("access_key_id"),
        secret: field("secret_access_key"),
        bucket: field("bucket"),
        credentials: field("credentials"),
        role_arn: field("role_arn"),
        child,
    })
}

fn built_workspace() -> (FakeIndex, Workspace) {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("one", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n[layer.base]\nrequirements = [\"one\"]\n\n\
         [function.api]\nrequirements = []\nlayers = [\"base\"]\n",
    );
    workspace.run(&["build"]).ok();
    (index, workspace)
}

#[test]
fn publish_uploads_each_zip_once_under_its_sha256_and_records_it_in_the_manifest() {
    let Some(s3) = s3_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let env = [
        ("AWS_ACCESS_KEY_ID", s3.key.as_str()),
        ("AWS_SECRET_ACCESS_KEY", s3.secret.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_S3", s3.endpoint.as_str()),
    ];
    let args = ["publish", "--bucket", &s3.bucket, "--prefix", "lambda/prod", "--message-format", "json"];
    let dry = workspace.run_env(&[&args[..], &["--dry-run"]].concat(), &env).ok();
    let dry: Value = serde_json::from_str(&dry.stdout).unwrap();
    assert!(dry["artifacts"].as_array().unwrap().iter().all(|a| a["uploaded"] == false), "{dry}");
    let manifest_path = workspace.path().join("target/lambda/manifest.json");
    assert!(!fs_err::read_to_string(&manifest_path).unwrap().contains("s3_key"), "a dry run changes nothing");

    let run = workspace.run_env(&args, &env).ok();
    let first: Value = serde_json::from_str(&run.stdout).unwrap();
    let artifacts = first["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 2, "{first}");
    let manifest: Value = serde_json::from_str(&fs_err::read_to_string(&manifest_path).unwrap()).unwrap();
    for artifact in manifest["artifacts"].as_array().unwrap() {
        let name = artifact["name"].as_str().unwrap();
        let key = format!("lambda/prod/{name}/{}.zip", artifact["sha256"].as_str().unwrap());
        assert_eq!(artifact["s3_key"], key.as_str());
        assert_eq!(artifact["s3_bucket"], s3.bucket.as_str());
        assert_eq!(artifact["s3_uri"], format!("s3://{}/{key}", s3.bucket).as_str());
        let reported = artifacts.iter().find(|a| a["path"] == artifact["path"]).unwrap();
        assert_eq!((reported["uploaded"].clone(), reported["s3_key"].clone()), (Value::Bool(true), Value::from(key)));
    }
    // A re-run uploads nothing, and a rebuild keeps the record while the zips are the same.
    let again: Value = serde_json::from_str(&workspace.run_env(&args, &env).ok().stdout).unwrap();
    assert!(again["artifacts"].as_array().unwrap().iter().all(|a| a["uploaded"] == false), "{again}");
    workspace.run(&["build"]).ok();
    assert!(fs_err::read_to_string(&manifest_path).unwrap().contains("\"s3_key\": \"lambda/prod/api/"));

    // Once published, templates and Terraform point at the objects instead of the local zips.
    let manifest: Value = serde_json::from_str(&fs_err::read_to_string(&manifest_path).unwrap()).unwrap();
    let api = manifest["artifacts"].as_array().unwrap().iter().find(|a| a["name"] == "api").unwrap().clone();
    let key = api["s3_key"].as_str().unwrap();
    fs_err::write(
        workspace.path().join("template.yaml"),
        "Resources:\n  ApiFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n\
         \x20 Plain:\n    Type: AWS::Lambda::Function\n    Properties:\n      Code: api\n",
    )
    .unwrap();
    let out = workspace.run(&["export", "--format", "sam", "--template", "template.yaml"]).ok().stdout;
    assert!(out.contains(&format!("CodeUri: \"s3://{}/{key}\"\n", s3.bucket)), "{out}");
    let sam = workspace.run(&["export", "--format", "cfn"]).ok().stdout;
    assert!(sam.contains(&format!("Code: {{\"S3Bucket\": \"{}\", \"S3Key\": \"{key}\"}}\n", s3.bucket)), "{sam}");
    let tf: Value = serde_json::from_str(&workspace.run(&["export", "--format", "terraform"]).ok().stdout).unwrap();
    let function = &tf["locals"]["lbuild_functions"]["api_x86_64"];
    assert_eq!((function["s3_bucket"].as_str(), function["s3_key"].as_str()), (Some(s3.bucket.as_str()), Some(key)));
    assert!(function.get("filename").is_none(), "{function}");
    // A wrong secret is said plainly, without the secret.
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret-at-all"), ("AWS_PROFILE", "none"), env[0], env[2], env[3]];
    let run = workspace.run_env(&["publish", "--bucket", &s3.bucket, "--prefix", "other"], &wrong).err();
    assert!(run.stderr.contains("SignatureDoesNotMatch"), "{}", run.stderr);
    assert!(run.stderr.contains("the secret access key does not match"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-secret-at-all") && !run.stderr.contains(&s3.secret), "{}", run.stderr);
}

#[test]
fn publish_says_when_the_endpoint_is_unreachable_or_credentials_are_missing() {
    let (_index, workspace) = built_workspace();
    let home = tempfile::tempdir().unwrap();
    let home = home.path().to_str().unwrap();
    let run = workspace
        .run_env(
            &["publish", "--bucket", "lbuild-test"],
            &[
                ("HOME", home),
                ("AWS_ACCESS_KEY_ID", ""),
                ("AWS_SECRET_ACCESS_KEY", ""),
                ("AWS_EC2_METADATA_DISABLED", "true"),
            ],
        )
        .err();
    assert!(run.stderr.contains("no AWS credentials found"), "{}", run.stderr);
    // Nothing listens on port 9 of 127.0.0.1.
    let env = [("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("HOME", home)];
    let run =
        workspace.run_env(&["publish", "--bucket", "lbuild-test", "--endpoint-url", "http://127.0.0.1:9"], &env).err();
    assert!(run.stderr.contains("cannot reach `http://127.0.0.1:9`"), "{}", run.stderr);
    for bucket in ["Not_A_Bucket", "a..b", "192.168.0.1", "ab-"] {
        let run = workspace.run_env(&["publish", "--bucket", bucket], &env).err();
        assert!(run.stderr.contains("is not an S3 bucket name"), "{bucket}: {}", run.stderr);
    }
    // An endpoint is scheme, host and port: a path would be dropped, and a password printed.
    for endpoint in ["http://127.0.0.1:9/base", "http://me:pa55word@127.0.0.1:9"] {
        let run = workspace.run_env(&["publish", "--bucket", "lbuild-test", "--endpoint-url", endpoint], &env).err();
        assert!(run.stderr.contains("is not an endpoint URL"), "{}", run.stderr);
        assert!(!run.stderr.contains("pa55word"), "{}", run.stderr);
    }
    // A dry run asks nothing of S3 and needs no credentials.
    let run = workspace.run_env(&["publish", "--bucket", "lbuild-test", "--dry-run"], &[("HOME", home)]).ok();
    assert!(run.stderr.contains("Would publish"), "{}", run.stderr);
}

#[test]
fn a_large_zip_goes_up_in_parts_and_reads_back_whole() {
    let Some(s3) = s3_or_skip() else { return };
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("one", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\n\n\
         [function.big]\nsource = \"src\"\nhandler = \"app.handler\"\nrequirements = [\"one\"]\n",
    );
    fs_err::create_dir_all(workspace.path().join("src")).unwrap();
    fs_err::write(workspace.path().join("src/app.py"), "def handler(event, context):\n    return 1\n").unwrap();
    // 20 MiB that deflate cannot shrink: three parts of 8 MiB, the last one smaller.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let noise: Vec<u8> = (0..20 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    fs_err::write(workspace.path().join("src/model.bin"), &noise).unwrap();
    workspace.run(&["build"]).ok();
    let env = s3.env("AWS_ENDPOINT_URL_S3");
    let run = workspace.run_env(&["publish", "--bucket", &s3.bucket, "--message-format", "json"], &env).ok();
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    let artifact = &report["artifacts"][0];
    assert_eq!(artifact["uploaded"], true, "{report}");
    let zip = fs_err::read(workspace.path().join("target/lambda").join(artifact["path"].as_str().unwrap())).unwrap();
    assert!(zip.len() > 20 << 20, "{} bytes", zip.len());
    assert!(s3.get(artifact["s3_key"].as_str().unwrap()) == zip, "the object is the zip, byte for byte");
    // The object carries its sha256, so a second run finds it and uploads nothing.
    let again = workspace.run_env(&["publish", "--bucket", &s3.bucket, "--message-format", "json"], &env).ok();
    let again: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(again["artifacts"][0]["uploaded"], false, "{again}");
}

#[test]
fn temporary_credentials_come_from_web_identity_a_container_or_instance_metadata() {
    let Some(s3) = s3_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let home = tempfile::tempdir().unwrap();
    let token = home.path().join("token");
    fs_err::write(&token, "oidc-token\n").unwrap();
    let token = token.to_str().unwrap();
    let container = format!("{}/container", s3.credentials);
    let common = [
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_SECRET_ACCESS_KEY", ""),
        ("AWS_PROFILE", ""),
        ("AWS_ENDPOINT_URL_S3", s3.endpoint.as_str()),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let sources: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "web identity",
            vec![
                ("AWS_ROLE_ARN", s3.role_arn.as_str()),
                ("AWS_WEB_IDENTITY_TOKEN_FILE", token),
                ("AWS_ENDPOINT_URL_STS", s3.credentials.as_str()),
            ],
        ),
        (
            "container",
            vec![
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.as_str()),
                ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"),
            ],
        ),
        (
            "instance",
            vec![
                ("AWS_EC2_METADATA_DISABLED", "false"),
                ("AWS_EC2_METADATA_SERVICE_ENDPOINT", s3.credentials.as_str()),
            ],
        ),
    ];
    for (source, extra) in &sources {
        let env: Vec<(&str, &str)> = common.iter().chain(extra).copied().collect();
        // Under a prefix of its own, so that each source has something to upload.
        let prefix = source.replace(' ', "-");
        let run = workspace
            .run_env(&["publish", "--bucket", &s3.bucket, "--prefix", &prefix, "--message-format", "json"], &env);
        let run = run.ok();
        let report: Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(report["artifacts"].as_array().unwrap().iter().all(|a| a["uploaded"] == true), "{source}: {report}");
    }
    // A token STS refuses is said, and neither it nor the secret is shown.
    fs_err::write(home.path().join("token"), "stolen-token").unwrap();
    let env: Vec<(&str, &str)> = common.iter().chain(&sources[0].1).copied().collect();
    let run = workspace.run_env(&["publish", "--bucket", &s3.bucket, "--prefix", "refused"], &env).err();
    assert!(run.stderr.contains("STS refused to assume `arn:aws:iam::123456789012:role/ci`"), "{}", run.stderr);
    assert!(run.stderr.contains("InvalidIdentityToken"), "{}", run.stderr);
    assert!(!run.stderr.contains("stolen-token"), "{}", run.stderr);
    // A container token the endpoint refuses.
    let env: Vec<(&str, &str)> =
        common.iter().copied().chain([("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.as_str())]).collect();
    let run = workspace.run_env(&["publish", "--bucket", &s3.bucket, "--prefix", "refused"], &env).err();
    assert!(run.stderr.contains("answered 401 Unauthorized without credentials"), "{}", run.stderr);
}

/// How many files the workspace's cache holds under `dir`.
fn walk(workspace: &Workspace, dir: &str) -> usize {
    let cache = workspace.run(&["cache", "dir"]).ok().stdout;
    crate::support::files_under(&std::path::Path::new(cache.trim()).join(dir)).len()
}

/// The lock's wheels: (filename, sha256).
fn locked_wheels(workspace: &Workspace) -> Vec<(String, String)> {
    let lock = workspace.lock();
    let mut wheels = Vec::new();
    for package in lock.0["package"].as_array().unwrap() {
        for target in package["target"].as_array().unwrap() {
            if let Some(wheel) = target.get("wheel") {
                wheels.push((
                    wheel["filename"].as_str().unwrap().to_string(),
                    wheel["sha256"].as_str().unwrap().to_string(),
                ));
            }
        }
    }
    wheels.sort();
    wheels.dedup();
    wheels
}

/// The sha256 of each zip of the last build, by path.
fn zip_hashes(workspace: &Workspace) -> Vec<(String, String)> {
    let text = fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap();
    let manifest: Value = serde_json::from_str(&text).unwrap();
    let artifacts = manifest["artifacts"].as_array().unwrap().iter();
    artifacts.map(|a| (a["path"].as_str().unwrap().to_string(), a["sha256"].as_str().unwrap().to_string())).collect()
}

#[test]
fn a_remote_cache_filled_by_one_runner_serves_the_next_and_is_never_trusted_or_needed() {
    let Some(s3) = s3_or_skip() else { return };
    let index = FakeIndex::start(
        &Scenario::from_packages([PackageSpec::new("one", "1.0"), PackageSpec::new("two", "2.0")]),
        IndexOptions::default(),
    );
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\narchitectures = [\"x86_64\"]\ncache-url = \"s3://{}/team/cache\"\n\n\
         [function.api]\nrequirements = [\"one\", \"two\"]\n",
        s3.bucket
    );
    let env = s3.env("AWS_ENDPOINT_URL_S3");
    // The first runner downloads from the index and fills the remote cache.
    let first = Workspace::new(&index, Api::Json, &body);
    first.run_env(&["build"], &env).ok();
    let wheels = locked_wheels(&first);
    assert_eq!(wheels.len(), 2, "{wheels:?}");
    for (filename, sha256) in &wheels {
        let stored = s3.get(&format!("team/cache/wheels/{sha256}/{filename}"));
        assert!(
            stored == index.file_bytes(filename).unwrap(),
            "{filename} is in the remote cache as the index serves it"
        );
    }
    // A cache filled before a remote cache was set up offers it its wheels once, when a build or
    // `lbuild fetch` reads them.
    let other = format!("s3://{}/other", s3.bucket);
    let moved = [env[0], env[1], env[2], ("LBUILD_CACHE_URL", other.as_str())];
    first.run_env(&["fetch"], &moved).ok();
    for (filename, sha256) in &wheels {
        assert!(!s3.get(&format!("other/wheels/{sha256}/{filename}")).is_empty(), "{filename} offered to `other`");
    }
    let pushed = walk(&first, "pushed");
    assert_eq!(pushed, 4, "one marker per wheel and remote cache");
    // A second runner, with a cache of its own, takes them from there: the index serves no file.
    let runner = |name: &str| {
        let workspace = Workspace::new(&index, Api::Json, &body);
        fs_err::copy(first.lock_path(), workspace.lock_path()).unwrap();
        eprintln!("runner {name}: {}", workspace.path().display());
        workspace
    };
    let second = runner("second");
    index.clear_requests();
    let run = second.run_env(&["build", "--locked"], &env).ok();
    let files: Vec<String> = index.requests().into_iter().filter(|path| path.contains(".whl")).collect();
    assert!(files.is_empty(), "the index served {files:?}\n{}", run.stderr);
    assert!(run.stderr.contains("2 of them from the remote cache `s3://lbuild-test/team/cache`"), "{}", run.stderr);
    assert_eq!(zip_hashes(&second), zip_hashes(&first), "the same zips, byte for byte");

    // A remote copy that is not the locked wheel is never used: the index serves it instead. One
    // has a byte changed, the other a megabyte more than the lock's size (not read past it).
    for (at, (filename, sha256)) in wheels.iter().enumerate() {
        let mut tampered = index.file_bytes(filename).unwrap();
        match at {
            0 => *tampered.last_mut().unwrap() ^= 1,
            _ => tampered.extend(std::iter::repeat_n(b'x', 1 << 20)),
        }
        let key = format!("team/cache/wheels/{sha256}/{filename}");
        s3.put(&key, &tampered);
    }
    let third = runner("third");
    let run = third.run_env(&["build", "--locked"], &env).ok();
    for (filename, _) in &wheels {
        assert!(run.stderr.contains(&format!("is not `{filename}`")), "{filename}: {}", run.stderr);
    }
    assert!(run.stderr.contains("(not read: larger than expected)"), "{}", run.stderr);
    assert!(run.stderr.contains("it was not used, and the index serves it"), "{}", run.stderr);
    assert_eq!(zip_hashes(&third), zip_hashes(&first));

    // Out of reach, or with credentials it refuses, the remote cache is skipped with a warning.
    let unreachable = [env[0], env[1], ("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9")];
    let run = runner("unreachable").run_env(&["build", "--locked"], &unreachable).ok();
    assert!(run.stderr.contains("cannot read the remote cache `s3://lbuild-test/team/cache`"), "{}", run.stderr);
    assert!(run.stderr.contains("the index serves everything"), "{}", run.stderr);
    // A build whose wheels are all in the local cache asks nothing of the remote one.
    fs_err::remove_dir_all(first.path().join("target")).unwrap();
    let run = first.run_env(&["build", "--locked"], &unreachable).ok();
    assert!(!run.stderr.contains("remote cache"), "{}", run.stderr);
    let wrong = [env[0], ("AWS_SECRET_ACCESS_KEY", "not-the-secret"), env[2]];
    let run = runner("wrong").run_env(&["build", "--locked"], &wrong).ok();
    assert!(run.stderr.contains("SignatureDoesNotMatch"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-secret"), "{}", run.stderr);
    let home = tempfile::tempdir().unwrap();
    let none = [
        ("HOME", home.path().to_str().unwrap()),
        ("AWS_ACCESS_KEY_ID", ""),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_PROFILE", ""),
    ];
    let run = runner("no credentials").run_env(&["build", "--locked"], &none).ok();
    assert!(
        run.stderr.contains("the remote cache `s3://lbuild-test/team/cache` is not used: no AWS credentials found"),
        "{}",
        run.stderr
    );
    // LBUILD_CACHE_URL overrides it, `none` turns it off, and a bad one is said.
    let run = runner("none")
        .run_env(
            &["build", "--locked"],
            &[unreachable[0], unreachable[1], unreachable[2], ("LBUILD_CACHE_URL", "none")],
        )
        .ok();
    assert!(!run.stderr.contains("remote cache"), "{}", run.stderr);
    let run = runner("bad").run_env(&["build", "--locked"], &[("LBUILD_CACHE_URL", "https://example.com/cache")]).err();
    assert!(
        run.stderr.contains("LBUILD_CACHE_URL is `https://example.com/cache`: a cache URL is `s3://BUCKET`"),
        "{}",
        run.stderr
    );
    second.write_manifest(&body.replace("/team/cache", "/team/../cache"));
    let run = second.run(&["build"]).err();
    assert!(run.stderr.contains("`cache-url`: the prefix is key segments"), "{}", run.stderr);
}

#[test]
fn deploy_updates_a_functions_code_only_when_its_code_sha256_differs() {
    let Some(s3) = s3_or_skip() else { return };
    let (_index, workspace) = built_workspace();
    let env = s3.env("AWS_ENDPOINT_URL");
    let deploy = |function: &str, extra: &[&str]| {
        let mut args = vec!["deploy", "-p", "api", "--function-name", function, "--message-format", "json"];
        args.extend_from_slice(extra);
        workspace.run_env(&args, &env)
    };
    let run = deploy("api", &[]).err();
    assert!(run.stderr.contains("is not published"), "{}", run.stderr);
    assert!(run.stderr.contains("lbuild publish --bucket BUCKET -p api"), "{}", run.stderr);
    workspace.run_env(&["publish", "--bucket", &s3.bucket, "-p", "api"], &env).ok();
    let manifest: Value =
        serde_json::from_str(&fs_err::read_to_string(workspace.path().join("target/lambda/manifest.json")).unwrap())
            .unwrap();
    let api = manifest["artifacts"].as_array().unwrap().iter().find(|a| a["name"] == "api").unwrap().clone();
    let wanted = api["base64_sha256"].as_str().unwrap();

    let dry: Value = serde_json::from_str(&deploy("api", &["--dry-run"]).ok().stdout).unwrap();
    assert_eq!((dry["changed"].as_bool(), dry["dry_run"].as_bool()), (Some(true), Some(true)), "{dry}");
    assert_eq!(dry["code_sha256"], dry["code_sha256_before"], "a dry run changes nothing: {dry}");
    let run = deploy("api", &[]).ok();
    let first: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!((first["changed"].as_bool(), first["code_sha256"].as_str()), (Some(true), Some(wanted)), "{first}");
    assert!(
        run.stderr
            .contains(&format!("Deployed api: CodeSha256 {} -> {wanted}", dry["code_sha256_before"].as_str().unwrap())),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("not its layers"), "api uses layer `base`: {}", run.stderr);
    // Lambda now runs that zip: a second deploy changes nothing.
    let run = deploy("api", &[]).ok();
    let again: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (again["changed"].as_bool(), again["code_sha256_before"].as_str()),
        (Some(false), Some(wanted)),
        "{again}"
    );
    assert!(run.stderr.contains("Unchanged api"), "{}", run.stderr);

    // A function on another Python, one that does not exist, and a layer are refused.
    let run = deploy("old", &[]).err();
    assert!(
        run.stderr.contains("`old` runs python3.11, but `functions/api-python3.12-x86_64.zip` is built for python3.12"),
        "{}",
        run.stderr
    );
    let run = deploy("missing", &[]).err();
    assert!(
        run.stderr.contains("cannot read the configuration of `missing`: ResourceNotFoundException"),
        "{}",
        run.stderr
    );
    let run = workspace.run_env(&["deploy", "-p", "base", "--function-name", "api"], &env).err();
    assert!(run.stderr.contains("`base` is a layer"), "{}", run.stderr);
    let wrong = [env[0], ("AWS_SECRET_ACCESS_KEY", "not-the-secret"), env[2]];
    let run = workspace.run_env(&["deploy", "-p", "api", "--function-name", "api"], &wrong).err();
    assert!(run.stderr.contains("the secret access key does not match"), "{}", run.stderr);
    assert!(!run.stderr.contains("not-the-secret"), "{}", run.stderr);
    let run = deploy("api; rm -rf /", &[]).err();
    assert!(run.stderr.contains("is not a Lambda function name"), "{}", run.stderr);

    // Built for both architectures, the zip deployed is the one the function runs on.
    workspace.write_manifest(
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\", \"arm64\"]\n\n[function.api]\nrequirements = []\n",
    );
    workspace.run(&["build"]).ok();
    workspace.run_env(&["publish", "--bucket", &s3.bucket], &env).ok();
    let both: Value = serde_json::from_str(&deploy("api", &[]).ok().stdout).unwrap();
    assert_eq!(both["path"], "functions/api-python3.12-x86_64.zip", "{both}");
    let run = deploy("api", &["--arch", "arm64"]).ok();
    assert!(run.stderr.contains("architecture x86_64 -> arm64"), "{}", run.stderr);
}

#[test]
fn a_wheel_built_from_an_sdist_goes_to_the_remote_cache_and_the_next_runner_needs_no_python() {
    let Some(s3) = s3_or_skip() else { return };
    if crate::sdist_build::python().is_none() {
        eprintln!("skipping: no python3 on PATH to build sdists with");
        return;
    }
    let index =
        FakeIndex::start(&Scenario::from_packages([PackageSpec::new("six", "1.16.0")]), IndexOptions::default());
    index.publish_raw_sdist(
        &PackageSpec::new("demo", "1.0").sdist(),
        "demo-1.0.zip",
        crate::sdist_build::sdist("py3-none-any"),
    );
    let body = format!(
        "[workspace]\nindex-url = \"{{index}}\"\nruntime = \"python3.12\"\narchitectures = [\"x86_64\"]\n\
         cache-url = \"s3://{}/team\"\n\n[function.api]\nrequirements = [\"demo\"]\n",
        s3.bucket
    );
    let env = s3.env("AWS_ENDPOINT_URL_S3");
    let first = Workspace::new(&index, Api::Simple, &body);
    let run = first.run_env(&["lock"], &env).ok();
    assert!(run.stderr.contains("Built demo-1.0-py3-none-any.whl"), "{}", run.stderr);
    first.run_env(&["build"], &env).ok();
    // `lbuild fetch` offers the remote cache what the local one holds, builds among it.
    first.run_env(&["fetch"], &env).ok();
    let lock: toml::Value = toml::from_str(&first.lock_text()).unwrap();
    let demo = lock["package"].as_array().unwrap().iter().find(|p| p["name"].as_str() == Some("demo")).unwrap();
    let built = &demo["target"][0]["built"];
    let key = format!(
        "team/built/{}/{}/demo-1.0-py3-none-any.whl",
        built["sdist"]["sha256"].as_str().unwrap(),
        built["content-sha256"].as_str().unwrap()
    );
    assert!(!s3.get(&key).is_empty(), "the build is in the remote cache at {key}");
    let runner = || {
        let workspace = Workspace::new(&index, Api::Simple, &body);
        fs_err::copy(first.lock_path(), workspace.lock_path()).unwrap();
        workspace
    };
    // The next runner has no Python to build with, and needs none.
    let second = runner();
    let no_python = [env[0], env[1], env[2], ("LBUILD_PYTHON", "/nonexistent/python")];
    let run = second.run_env(&["build", "--locked"], &no_python).ok();
    assert!(
        run.stderr.contains("Fetched demo-1.0-py3-none-any.whl from the remote cache `s3://lbuild-test/team`"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("Building"), "{}", run.stderr);
    assert_eq!(zip_hashes(&second), zip_hashes(&first));
    // The same contents zipped otherwise (entries reversed, stored) are the lock's build: taken,
    // and kept as the canonical wheel, so the zips are still the same bytes.
    let original = tempfile::NamedTempFile::new().unwrap();
    fs_err::write(original.path(), s3.get(&key)).unwrap();
    let entries = crate::support::zip_entries(original.path());
    let rezipped: Vec<_> =
        entries.iter().rev().map(|(name, bytes)| crate::support::rawzip::RawEntry::stored(name, bytes)).collect();
    s3.put(&key, &crate::support::rawzip::write_zip(&rezipped));
    let rezipped_runner = runner();
    let run = rezipped_runner.run_env(&["build", "--locked"], &no_python).ok();
    assert!(run.stderr.contains("Fetched demo-1.0-py3-none-any.whl from the remote cache"), "{}", run.stderr);
    assert_eq!(zip_hashes(&rezipped_runner), zip_hashes(&first));
    // A build in the remote cache whose contents are not the lock's is not used: built here.
    s3.put(&key, &crate::sdist_build::sdist("py3-none-any"));
    let third = runner();
    let run = third.run_env(&["build", "--locked"], &env).ok();
    assert!(
        run.stderr.contains(&format!(
            "the remote cache's build of `demo-1.0-py3-none-any.whl` (`s3://lbuild-test/{key}`) is not what \
             `lambda.lock` records"
        )) && run.stderr.contains("delete the object"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Building demo 1.0"), "built here instead: {}", run.stderr);
    assert_eq!(zip_hashes(&third), zip_hashes(&first));
    // Without a remote cache, `lbuild fetch` keeps the sdist, so an offline build can build it.
    let offline = runner();
    let none = [env[0], env[1], env[2], ("LBUILD_CACHE_URL", "none")];
    offline.run_env(&["fetch"], &none).ok();
    let run = offline.run_env(&["build", "--offline"], &none).ok();
    assert!(run.stderr.contains("Building demo 1.0"), "{}", run.stderr);
    assert_eq!(zip_hashes(&offline), zip_hashes(&first));
}

/// A store that answers every request with a 500 whose body never ends.
fn endless_error_store() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                use std::io::{Read, Write};
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/xml\r\n\
                            Content-Length: 8589934592\r\n\r\n<Error><Code>InternalError</Code>";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let filler = vec![b' '; 64 << 10];
                while stream.write_all(&filler).is_ok() {}
            });
        }
    });
    format!("http://{address}")
}

#[test]
fn a_hostile_remote_cache_cannot_stall_or_fill_the_memory_of_a_build() {
    let index = FakeIndex::start(&Scenario::from_packages([PackageSpec::new("one", "1.0")]), IndexOptions::default());
    let workspace = Workspace::new(
        &index,
        Api::Json,
        "[workspace]\nindex-url = \"{index}\"\narchitectures = [\"x86_64\"]\ncache-url = \"s3://team-cache/x\"\n\n\
         [function.api]\nrequirements = [\"one\"]\n",
    );
    let store = endless_error_store();
    let env =
        [("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_ENDPOINT_URL_S3", &store)];
    // Its error bodies are read up to a cap: the build goes on from the index with one warning.
    let run = workspace.run_env(&["build"], &env).ok();
    assert_eq!(run.stderr.matches("cannot read the remote cache `s3://team-cache/x`").count(), 1, "{}", run.stderr);
    assert!(run.stderr.contains("InternalError"), "{}", run.stderr);
    assert!(!run.stderr.contains("cannot write"), "one warning: {}", run.stderr);
    // Publishing to it fails plainly, and `--offline` publishes nothing.
    let run = workspace.run_env(&["publish", "--bucket", "team-cache"], &env).err();
    assert!(run.stderr.contains("cannot check `s3://team-cache/api/") && run.stderr.contains("500"), "{}", run.stderr);
    let run = workspace.run_env(&["--offline", "publish", "--bucket", "team-cache"], &env).err();
    assert!(run.stderr.contains("`lbuild publish` uploads to S3, which `--offline` forbids"), "{}", run.stderr);
    let run = workspace.run_env(&["publish", "--bucket", "team-cache", "--prefix", "a//b"], &env).err();
    assert!(run.stderr.contains("is not a key prefix"), "{}", run.stderr);
    let run = workspace.run_env(&["deploy", "-p", "api", "--function-name", "api:prod"], &env).err();
    assert!(run.stderr.contains("names a version or alias"), "{}", run.stderr);
}

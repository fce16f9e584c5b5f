"""Translate an AWS SAM template to CloudFormation with the real SAM translator, as
`sam deploy` would after `sam package`: for tests/it (see tests/it/build.rs, `LBUILD_TEST_CFN_LINT`).

    python sam_translate.py TEMPLATE

The SAM translator reads packaged templates only (code on S3), so this script first does what
`sam package` does to local code: each `CodeUri`/`ContentUri` of an `AWS::Serverless::Function`/
`LayerVersion` and each `Code`/`Content` of an `AWS::Lambda::Function`/`LayerVersion` that is a
local path must name an existing `.zip` file (relative to the template's directory), and is
replaced by an S3 location keyed by its SHA-256. Locations already on S3 (after `lbuild
publish`) are checked to be well formed and kept.

Prints the translated template as JSON on stdout and exits 0; on any problem prints why on
stderr and exits 1. No network, no AWS credentials: the region is a fixed default, and managed
policy names are not looked up (`Policies:` by managed-policy name is not supported here).
"""

import hashlib
import json
import os
import sys

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from samtranslator.model.exceptions import InvalidDocumentException  # noqa: E402
from samtranslator.translator.transform import transform  # noqa: E402
from samtranslator.yaml_helper import yaml_parse  # noqa: E402

BUCKET = "lbuild-test-packaged"
# Resource type -> (code key, whether the packaged form is an `s3://` URI rather than a mapping).
CODE_KEYS = {
    "AWS::Serverless::Function": ("CodeUri", True),
    "AWS::Serverless::LayerVersion": ("ContentUri", True),
    "AWS::Lambda::Function": ("Code", False),
    "AWS::Lambda::LayerVersion": ("Content", False),
}


class NoManagedPolicies:
    """The translator asks for IAM's managed policy map only for `Policies:` by name."""

    def load(self):
        return {}


def package(template, template_dir):
    """Point local code at S3 as `sam package` would; the problems found, as text."""
    problems = []
    for rid, resource in (template.get("Resources") or {}).items():
        if not isinstance(resource, dict) or resource.get("Type") not in CODE_KEYS:
            continue
        key, as_uri = CODE_KEYS[resource["Type"]]
        properties = resource.get("Properties") or {}
        value = properties.get(key)
        if value is None:
            continue  # SAM: from Globals; plain CloudFormation: cfn-lint reports it.
        if isinstance(value, dict):
            if as_uri:
                # SAM also takes {Bucket, Key}; lbuild writes `s3://` URIs.
                if not {"Bucket", "Key"} <= value.keys():
                    problems.append(f"{rid}: {key} {value!r} is neither a path nor {{Bucket, Key}}")
            elif "ZipFile" not in value and not {"S3Bucket", "S3Key"} <= value.keys():
                problems.append(f"{rid}: {key} {value!r} has no S3Bucket and S3Key")
            continue
        if not isinstance(value, str):
            problems.append(f"{rid}: {key} is {value!r}, not a path or an S3 location")
            continue
        if value.startswith("s3://"):
            bucket, _, object_key = value[len("s3://"):].partition("/")
            if not as_uri:
                problems.append(f"{rid}: {key} {value!r} is an s3:// URI, which {resource['Type']} does not take")
            elif not bucket or not object_key:
                problems.append(f"{rid}: {key} {value!r} is not s3://BUCKET/KEY")
            continue
        path = os.path.normpath(os.path.join(template_dir, value))
        if not value.endswith(".zip") or not os.path.isfile(path):
            problems.append(f"{rid}: {key} {value!r} is not a zip file ({path})")
            continue
        with open(path, "rb") as file:
            digest = hashlib.sha256(file.read()).hexdigest()
        if as_uri:
            properties[key] = f"s3://{BUCKET}/{digest}.zip"
        else:
            properties[key] = {"S3Bucket": BUCKET, "S3Key": f"{digest}.zip"}
    return problems


def main(argv):
    if len(argv) != 2:
        print(f"usage: {argv[0]} TEMPLATE", file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8-sig") as file:
        template = yaml_parse(file.read())
    if not isinstance(template, dict):
        print(f"{argv[1]} is not a template (a mapping)", file=sys.stderr)
        return 1
    problems = package(template, os.path.dirname(os.path.abspath(argv[1])))
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    try:
        translated = transform(template, {}, NoManagedPolicies())
    except InvalidDocumentException as err:
        for cause in err.causes:
            print(f"SAM translator: {cause.message}", file=sys.stderr)
        return 1
    json.dump(translated, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

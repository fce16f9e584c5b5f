"""An S3 server for tests/it/publish.rs: moto on 127.0.0.1 and a free port, with an IAM user
and key, a bucket, and SigV4 checking turned on (moto accepts any credentials until then).

Beside it, on another port, a stand-in for the services that hand out temporary credentials:
STS `AssumeRoleWithWebIdentity` (POST /, for the token `oidc-token`), a container credentials
endpoint (GET /container, for `Authorization: container-token`) and IMDSv2 (PUT
/latest/api/token, then /latest/meta-data/iam/security-credentials/[ROLE]). Each answers with
the same credentials of a role assumed in moto, which moto then checks with their session token.

Two Lambda functions, `api` (python3.12) and `old` (python3.11), for `lbuild deploy`.

Prints one JSON line (endpoint, access_key_id, secret_access_key, bucket, credentials), then
serves until its stdin closes.

`moto_s3.py get ENDPOINT ACCESS_KEY SECRET BUCKET KEY`: writes that object's bytes to stdout;
`moto_s3.py put ...` (the same arguments) puts stdin's bytes there."""
import io
import json
import sys
import zipfile
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

if sys.argv[1:2] == ["get"]:
    endpoint, key_id, secret, bucket, key = sys.argv[2:7]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                      aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}))
    sys.stdout.buffer.write(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    sys.exit(0)
if sys.argv[1:2] == ["put"]:
    endpoint, key_id, secret, bucket, key = sys.argv[2:7]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key_id,
                      aws_secret_access_key=secret, config=Config(s3={"addressing_style": "path"}))
    s3.put_object(Bucket=bucket, Key=key, Body=sys.stdin.buffer.read())
    sys.exit(0)

server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
host, port = server.get_host_and_port()
endpoint = f"http://{host}:{port}"
settings = dict(endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="setup", aws_secret_access_key="setup")
iam = boto3.client("iam", **settings)
iam.create_user(UserName="ci")
key = iam.create_access_key(UserName="ci")["AccessKey"]
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
iam.put_user_policy(UserName="ci", PolicyName="all", PolicyDocument=json.dumps(policy))
bucket = sys.argv[1] if len(sys.argv) > 1 else "lbuild-test"
boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **settings).create_bucket(Bucket=bucket)
# Lambda functions for `lbuild deploy`: `api` on python3.12 and `old` on python3.11.
first = io.BytesIO()
with zipfile.ZipFile(first, "w") as archive:
    archive.writestr("app.py", "def handler(event, context):\n    return 0\n")
lambda_role = iam.create_role(RoleName="lambda", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
for name, runtime in [("api", "python3.12"), ("old", "python3.11")]:
    boto3.client("lambda", **settings).create_function(FunctionName=name, Runtime=runtime, Role=lambda_role, Handler="app.handler", Code={"ZipFile": first.getvalue()}, Architectures=["x86_64"])
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "ci"}, "Action": "sts:AssumeRoleWithWebIdentity"}]}
iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(trust))
iam.put_role_policy(RoleName="ci", PolicyName="all", PolicyDocument=json.dumps(policy))
role_arn = "arn:aws:iam::123456789012:role/ci"
issued = boto3.client("sts", **settings).assume_role(RoleArn=role_arn, RoleSessionName="ci")["Credentials"]
temporary = {"AccessKeyId": issued["AccessKeyId"], "SecretAccessKey": issued["SecretAccessKey"], "Token": issued["SessionToken"], "Expiration": "2100-01-01T00:00:00Z"}


class Credentials(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        ok = form.get("Action") == ["AssumeRoleWithWebIdentity"] and form.get("RoleArn") == [role_arn] and form.get("WebIdentityToken") == ["oidc-token"] and form.get("RoleSessionName")
        if not ok:
            return self.answer(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>Couldn't retrieve verification key from your identity provider</Message></Error></ErrorResponse>", "text/xml")
        self.answer(200, "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>" + "".join(f"<{name}>{temporary[value]}</{name}>" for name, value in [("AccessKeyId", "AccessKeyId"), ("SecretAccessKey", "SecretAccessKey"), ("SessionToken", "Token")]) + "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", "text/xml")

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("x-aws-ec2-metadata-token-ttl-seconds"):
            return self.answer(200, "imds-token", "text/plain")
        self.answer(400, "")

    def do_GET(self):
        if self.path == "/container":
            if self.headers.get("Authorization") != "container-token":
                return self.answer(401, "{}")
            return self.answer(200, json.dumps(temporary))
        if self.headers.get("x-aws-ec2-metadata-token") != "imds-token":
            return self.answer(401, "")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.answer(200, "ci-role", "text/plain")
        if self.path == "/latest/meta-data/iam/security-credentials/ci-role":
            return self.answer(200, json.dumps(dict(temporary, Code="Success")))
        self.answer(404, "")


stub = ThreadingHTTPServer(("127.0.0.1", 0), Credentials)
threading.Thread(target=stub.serve_forever, daemon=True).start()
urllib.request.urlopen(
    urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
)
print(json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"], "bucket": bucket, "credentials": f"http://127.0.0.1:{stub.server_address[1]}", "role_arn": role_arn}), flush=True)
sys.stdin.read()
server.stop()

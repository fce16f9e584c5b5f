"""An S3 server for tests/it/publish.rs: moto on 127.0.0.1 and a free port, with an IAM user
and key, a bucket, and SigV4 checking turned on (moto accepts any credentials until then).
Prints one JSON line (endpoint, access_key_id, secret_access_key, bucket), then serves until
its stdin closes."""
import json
import sys
import urllib.request

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

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
urllib.request.urlopen(
    urllib.request.Request(endpoint + "/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"})
)
print(json.dumps({"endpoint": endpoint, "access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"], "bucket": bucket}), flush=True)
sys.stdin.read()
server.stop()

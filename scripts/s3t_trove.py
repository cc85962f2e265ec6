"""pytest plugin that scripts/s3-tests.sh adds to the shared harness (run.sh, s3t_plugin.py).

It changes no test and no assertion. The suite builds its IAM-run S3 clients with
region_name='' (get_iam_root_client(service_name='s3'), get_iam_alt_root_client(service_name='s3')
in test_iam.py). With awscrt installed botocore signs with the CRT signer, which refuses an empty
region before any request is sent (RuntimeError 6149, AWS_AUTH_SIGNING_INVALID_CONFIGURATION),
and without it botocore's S3 endpoint rules reject the empty region too. The shared plugin gives
IAM and STS clients a region for this reason; this does the same for S3 clients (the region of
S3TESTS_IAM_REGION, default us-east-1, which is Trove's default region). Clients that name a
region keep it.
"""

import os
import traceback


def pytest_configure(config):
    try:
        import boto3
        region = os.environ.get("S3TESTS_IAM_REGION", "us-east-1")
        real = boto3.client

        def client(*args, **kwargs):
            service = kwargs.get("service_name", args[0] if args else None)
            if service == "s3" and "region_name" in kwargs and not kwargs["region_name"]:
                kwargs["region_name"] = region
            return real(*args, **kwargs)
        boto3.client = client
    except Exception:  # pragma: no cover - best effort
        traceback.print_exc()

"""Register the S3 bucket block (RustFS) that the compose worker persists flow results to."""

import os

from prefect_aws import AwsCredentials, S3Bucket
from prefect_aws.client_parameters import AwsClientParameters

credentials = AwsCredentials(
    aws_access_key_id=os.environ.get("RUSTFS_ACCESS_KEY", "cookbook"),
    aws_secret_access_key=os.environ.get("RUSTFS_SECRET_KEY", "cookbook-secret"),
    aws_client_parameters=AwsClientParameters(endpoint_url="http://rustfs:9000"),
)
S3Bucket(bucket_name="cookbook-results", credentials=credentials).save("cookbook-results", overwrite=True)

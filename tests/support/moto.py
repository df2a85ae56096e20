"""Sets up moto (a loopback AWS) for tests/aws_kms.rs and prints what it made as JSON.

    python3 moto.py ENDPOINT iam   -> an IAM user allowed kms:CreateKey/Sign/GetPublicKey,
                                     its access key, and (as that user) an RSA_2048
                                     SIGN_VERIFY key, an ECC key and an RSA encryption key
    python3 moto.py ENDPOINT plain -> an RSA_2048 SIGN_VERIFY key, no IAM (for web identity)
"""
import json
import sys

import boto3

endpoint, mode = sys.argv[1], sys.argv[2]
region = "us-east-1"


def client(service, key="testing", secret="testing"):
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret)


out = {}
if mode == "iam":
    # Three unauthenticated requests (INITIAL_NO_AUTH_ACTION_COUNT=3): the user, its
    # policy, its access key. Everything after is signed and checked.
    iam = client("iam")
    iam.create_user(UserName="bank")
    iam.put_user_policy(UserName="bank", PolicyName="attest", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["kms:CreateKey", "kms:Sign", "kms:GetPublicKey"],
                       "Resource": "*"}]}))
    key = iam.create_access_key(UserName="bank")["AccessKey"]
    out["access_key_id"], out["secret_access_key"] = key["AccessKeyId"], key["SecretAccessKey"]
    kms = client("kms", out["access_key_id"], out["secret_access_key"])
else:
    kms = client("kms")
out["key_id"] = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
if mode == "iam":
    out["ecc_key_id"] = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    out["encrypt_key_id"] = kms.create_key(KeySpec="RSA_2048", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]["KeyId"]
print(json.dumps(out))

#!/usr/bin/env python3
"""Cybrid's attestation flow from Python, against the cybrid-identity emulator.

Given only the emulator's JSON line (as printed by `cybrid-identity emulator`), it obtains a
token, finds the default verification key, signs an attestation JWT with the sandbox key using
PyJWT, creates an identity record and polls it to a final state. Prints one JSON line:
{"state": ..., "failure_code": ...}.

    python3 attest_with_emulator.py '<json line>' [--wrong-iss]

Needs PyJWT with cryptography (pip install 'PyJWT[crypto]'). HTTP is the standard library's.
"""
import json
import secrets
import sys
import time
import urllib.request
import uuid

import jwt  # PyJWT

# Cybrid's published default sandbox signing key (IdentityRecordsBankApi reference).
SANDBOX_KEY = """-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDZ75nSfJy/eeuj
4f7EK7i+n4FUDE8BsD/acCdk9Pn56suuDc3SFcMoyjBIoDLZkbRsVfmBEcPDNJOp
GNqzoaXa7qe7Yw0qpK9MbNbAYxiyAfxwVHM+ZpwP6M/r3LmsCRFXgNdCjfOzok7u
V59hDjfHMMQm/M9ztGVhaJpgozY/7DKk+R6qY/DEBs63eXwfcHE0u0NbS8Y9Qp+6
7cB2f1iuy++5Uut1vx4qdgZ4UFMkwIdTWl/e6LDcdXhk3///T5WOnDlI+S4rhGUO
xsAOfOa+T9uqYBr2hbQR9emTEYmwF1lgZ7VU4S9sSjAMKpB/TVlVVOsNhdNSGg6f
6hu7fuadAgMBAAECggEBAMUJL1VyfHVRUY5VoPTTYrBVnaPTjQrFwrVHeRZ5thgS
BBxVNqSeMFgMlSLUU6UJasoX4QCkgw1V17qmUfTeTQlnhBaTMzA+vI6oSHCgJ4+o
5AbbE2Zzdt2ba4Cfiu7TM+6c+gGePZtHP32Vku84340jtfRZ1WWSz6YF4K1GYqHe
y7I4POotHu2WcSTXYKs2zTu5KAO7gvx7yITVytaiUGUHk9FNyZPDIh0u7e9CAEti
BangdYTfvbXAIx9lrg3XQ4gtFXTd0aY/3R9K3SE+s5iWh/SabjV4U7x+MuHZS5kv
8rcLCPQ5kUgiF4bQMy7QznUuNso65SbRJKHaU8UAuIECgYEA7+bNdz/uiN/JxUJY
3xwjD+CG4vXOyEmCioBjllYBeXQyB/VrsdzVrdF2JiECnStPRH6/6nd7/wUcLORv
NyrQqnCa5/O8Kv9Z3t4TmxYf+ECIgx+gazehQHptUkr8QWtxceorUC9pu4cUJ8z3
nQLCggHYQ3g7xj73LLZ+5QQBC8kCgYEA6I91Dgs+HZWDMMcGbKV2cMkXK8BTOgZZ
6B6i6flO4tf9U2CPBZsjYLBN5EEuxxy9Yl7rlV7CxAhnnjdIKk2jQbzTPI0qmJfp
397rvdR8bur1OkALj2Tb39fz8z1Qy7AcN8siqXuortZZ5OI9XRWgnG/3B4gUFOnW
4Mr0dhfaxjUCgYEAmVcricehjneMnrtz1thDSQi47yUzES57dE/wV82Nj7ZHrHKg
bcW8ByhVnrWG2DMwrZVe0l2hMjZv9fnlZJvHWMo1GYHfipRBO4UzfvO7Z5DIMRfs
D9w1A+O9MNahOqeUkb2eBdjoemcy6OXId+Gltje7phSaEHN6xme34GaYzJECgYBP
eRbLYdQsT/exJ5JudmzvRgkBDoxie+EljbKmumfW5XDQmWLGy6lfVWCI7C2MJaoi
f8WKGgP88dJXIxUqP7XWtSyKuMMhumhV9Nwi1wZe8TQ0X8aTjigFassXCJEfymMa
PfTubi/K771wlk/aC5YDX8/PZxVVwEOKNlEsOiKtMQKBgQDqRv5AUHhabqcMfbs7
DTeo/fS/eXJv8MN+CUU2RSrNUKjEdHT2R5KP550TyXr1JXLKpEEZu8wvvaQDV4Dw
p0Eij6bKsh03X38NR+C5SxonXPosdvoiXR8uUgya2f/aJYV+aWZ9euFgYZAXf/0Q
MnWdKylfZlV50XP2KFn07wPs7w==
-----END PRIVATE KEY-----"""


def call(method, url, token=None, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def main():
    emulator = json.loads(sys.argv[1])
    wrong_iss = "--wrong-iss" in sys.argv[2:]

    grant = call("POST", emulator["token_url"], body={
        "grant_type": "client_credentials",
        "client_id": emulator["client_id"],
        "client_secret": emulator["client_secret"],
        "scope": "customers:read customers:write banks:read banks:write",
    })
    token = grant["access_token"]

    key = call("GET", emulator["url"] + "/api/bank_verification_keys", token)["objects"][0]
    assert key["state"] == "verified", key

    bank = "0" * 32 if wrong_iss else key["bank_guid"]
    customer = secrets.token_hex(16)
    now = int(time.time())
    attestation = jwt.encode(
        {
            "iss": "http://api.cybrid.app/banks/" + bank,
            "aud": "http://api.cybrid.app",
            "sub": "http://api.cybrid.app/customers/" + customer,
            "iat": now,
            "exp": now + 365 * 86400,
            "jti": str(uuid.uuid4()),
        },
        SANDBOX_KEY,
        algorithm="RS512",
        headers={"kid": key["guid"]},
    )

    record = call("POST", emulator["url"] + "/api/identity_records", token, {
        "customer_guid": customer,
        "type": "attestation",
        "attestation_details": {"token": attestation},
    })
    deadline = time.time() + 30
    while record["attestation_details"]["state"] not in ("verified", "failed", "expired"):
        if time.time() > deadline:
            raise SystemExit("timed out in state " + record["attestation_details"]["state"])
        time.sleep(0.05)
        record = call("GET", emulator["url"] + "/api/identity_records/" + record["guid"], token)
    print(json.dumps({"state": record["attestation_details"]["state"],
                      "failure_code": record["attestation_details"]["failure_code"]}))


if __name__ == "__main__":
    main()

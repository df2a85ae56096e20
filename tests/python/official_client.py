"""Cybrid's official Python client of release v0.71.72 against the emulator's default mode.

    python3 -m pip install cybrid-api-bank-python==0.71.72
    python3 tests/python/official_client.py   # with the variables below set

Reads CYBRID_BASE_URL, CYBRID_TOKEN_URL, CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET (from the
emulator's JSON line), CUSTOMER_GUID and ATTESTATION_JWT (a token the emulator will verify).
Creates, gets and lists identity records, and lists and gets verification keys, through the
generated client, which validates every answer against the models of that release: any
value outside them (a `pending` state, say) raises. Prints one JSON line; exits 1 on error.
"""
import json
import os
import sys
import time
import urllib.request

import cybrid_api_bank
from cybrid_api_bank.api import identity_records_bank_api, verification_keys_bank_api
from cybrid_api_bank.model.post_identity_record import PostIdentityRecord
from cybrid_api_bank.model.post_identity_record_attestation_details import (
    PostIdentityRecordAttestationDetails,
)


def access_token():
    body = json.dumps({
        "grant_type": "client_credentials",
        "client_id": os.environ["CYBRID_CLIENT_ID"],
        "client_secret": os.environ["CYBRID_CLIENT_SECRET"],
        "scope": "customers:read customers:write banks:read banks:write",
    }).encode()
    request = urllib.request.Request(os.environ["CYBRID_TOKEN_URL"], data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


def main():
    customer = os.environ["CUSTOMER_GUID"]
    configuration = cybrid_api_bank.Configuration(host=os.environ["CYBRID_BASE_URL"],
                                                  access_token=access_token())
    with cybrid_api_bank.ApiClient(configuration) as client:
        records = identity_records_bank_api.IdentityRecordsBankApi(client)
        keys = verification_keys_bank_api.VerificationKeysBankApi(client)
        key_list = keys.list_verification_keys()
        key = keys.get_verification_key(key_list.objects[0].guid)
        post = PostIdentityRecord(
            customer_guid=customer, type="attestation",
            attestation_details=PostIdentityRecordAttestationDetails(
                token=os.environ["ATTESTATION_JWT"]))
        created = records.create_identity_record(post)
        states = [created.attestation_details.state]
        record = created
        for _ in range(100):
            record = records.get_identity_record(created.guid)
            if record.attestation_details.state != states[-1]:
                states.append(record.attestation_details.state)
            if record.attestation_details.state in ("verified", "failed", "expired"):
                break
            time.sleep(0.05)
        listed = records.list_identity_records(customer_guid=customer, page=0, per_page=10)
    print(json.dumps({"key_state": key.state, "states": states, "listed": listed.total,
                      "listed_guid": listed.objects[0].guid == created.guid}))


if __name__ == "__main__":
    try:
        main()
    except Exception as error:  # noqa: BLE001 - any failure of the generated client is the finding
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)

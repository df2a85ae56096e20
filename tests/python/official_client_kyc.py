"""Cybrid's official Python client of today (cybrid-api-bank-python 0.129.x) against the
emulator: the bank and its features, a customer, an attested identity verification.

    python3 -m pip install --target DIR cybrid-api-bank-python==0.129.899
    PYTHONPATH=DIR python3 tests/python/official_client_kyc.py   # with the variables below

Reads CYBRID_BASE_URL, CYBRID_TOKEN_URL, CYBRID_CLIENT_ID, CYBRID_CLIENT_SECRET and
CYBRID_BANK_GUID (the emulator's JSON line). Every answer goes through the generated models,
which raise on a value outside them. Prints one JSON line; exits 1 on error.
"""
import datetime
import json
import os
import time
import urllib.request

import cybrid_api_bank
from cybrid_api_bank.api import banks_bank_api, customers_bank_api, identity_verifications_bank_api
from cybrid_api_bank.model.post_customer import PostCustomer
from cybrid_api_bank.model.post_customer_address import PostCustomerAddress
from cybrid_api_bank.model.post_customer_name import PostCustomerName
from cybrid_api_bank.model.post_identification_number import PostIdentificationNumber
from cybrid_api_bank.model.post_identity_verification import PostIdentityVerification
from cybrid_api_bank.model.post_identity_verification_address import PostIdentityVerificationAddress
from cybrid_api_bank.model.post_identity_verification_name import PostIdentityVerificationName

SCOPES = ("banks:read customers:read customers:execute "
          "identity_verifications:read identity_verifications:execute")


def access_token():
    body = json.dumps({
        "grant_type": "client_credentials",
        "client_id": os.environ["CYBRID_CLIENT_ID"],
        "client_secret": os.environ["CYBRID_CLIENT_SECRET"],
        "scope": SCOPES,
    }).encode()
    request = urllib.request.Request(os.environ["CYBRID_TOKEN_URL"], data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["access_token"]


def main():
    configuration = cybrid_api_bank.Configuration(host=os.environ["CYBRID_BASE_URL"],
                                                  access_token=access_token())
    with cybrid_api_bank.ApiClient(configuration) as client:
        banks = banks_bank_api.BanksBankApi(client)
        customers = customers_bank_api.CustomersBankApi(client)
        verifications = identity_verifications_bank_api.IdentityVerificationsBankApi(client)
        bank = banks.get_bank(os.environ["CYBRID_BANK_GUID"])
        listed_banks = banks.list_banks()
        customer = customers.create_customer(PostCustomer(
            type="individual",
            name=PostCustomerName(first="Ottoline", last="Quennell"),
            address=PostCustomerAddress(street="4 Rue Lamarck", city="Paris", country_code="FR"),
            date_of_birth=datetime.date(1983, 7, 21),
            labels=["python-0129"]))
        got = customers.get_customer(customer.guid)
        by_label = customers.list_customers(label="python-0129")
        made = verifications.create_identity_verification(PostIdentityVerification(
            type="kyc", method="attested", customer_guid=customer.guid,
            name=PostIdentityVerificationName(first="Ottoline", last="Quennell"),
            address=PostIdentityVerificationAddress(street="4 Rue Lamarck", city="Paris",
                                                    country_code="FR"),
            date_of_birth=datetime.date(1983, 7, 21),
            identification_numbers=[PostIdentificationNumber(
                type="passport", issuing_country_code="FR", identification_number="X9402218837")]))
        states = [made.state]
        done = made
        for _ in range(200):
            done = verifications.get_identity_verification(made.guid)
            if done.state != states[-1]:
                states.append(done.state)
            if done.state in ("completed", "expired"):
                break
            time.sleep(0.02)
        listed = verifications.list_identity_verifications(customer_guid=customer.guid)
        after = customers.get_customer(customer.guid)
        print(json.dumps({
            "features": list(bank.features), "banks": len(listed_banks.objects),
            "customer_state": got.state, "by_label": len(by_label.objects),
            "states": states, "outcome": done.outcome, "listed": len(listed.objects),
            "customer_after": after.state,
        }))


if __name__ == "__main__":
    main()

"""Signed but malformed webhook bodies are a 400 JSON answer, never a 500 (issue 12, item 16)."""
from __future__ import annotations

import json

import pytest

from tests.stripe_stub import sign_payload

URL = "/payments/stripe/webhook"


def deep(n: int) -> str:
    return '{"id":"evt_d","type":"checkout.session.completed","data":{"object":' + "[" * n + "]" * n + "}}"


def session_event(**obj) -> dict:
    return {"id": "evt_1", "type": "checkout.session.completed", "data": {"object": obj}}


BODIES = [
    "[]", "null", '"a string"', "42", "{}",
    json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": "x"}),
    json.dumps({"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "x"}}),
    json.dumps({"id": "evt_1", "type": "charge.refunded", "data": {"object": []}}),
    json.dumps(session_event(metadata="x", payment_status="paid")),
    json.dumps(session_event(metadata={"donation_id": {"a": 1}})),
    json.dumps(session_event(client_reference_id=["1"])),
    json.dumps(session_event(payment_intent={"id": "pi"}, metadata={"donation_id": "1"})),
    json.dumps(session_event(amount_total="100", metadata={"donation_id": "1"})),
    json.dumps({"id": "evt_1", "type": "charge.refunded",
                "data": {"object": {"payment_intent": "pi_1", "refunds": "x", "amount_refunded": 5}}}),
    json.dumps({"id": "evt_1", "type": "charge.refunded",
                "data": {"object": {"payment_intent": "pi_1", "refunds": {"data": ["x"]}}}}),
    json.dumps({"id": "evt_\u0000", "type": "checkout.session.completed", "data": {"object": {}}}),
    '{"id": "evt_\\ud800", "type": "x", "data": {"object": {}}}',
    deep(50), deep(5000),
]


@pytest.mark.parametrize("body", BODIES, ids=range(len(BODIES)))
def test_signed_malformed_bodies_are_400_json(client, app, body):
    secret = app.config["STRIPE_DEMO_WEBHOOK_SECRET"]
    response = client.post(URL, data=body.encode(), headers={
        "Content-Type": "application/json", "Stripe-Signature": sign_payload(body, secret)})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.is_json and response.json["status"] == 400
    assert response.json["error"]


def test_a_well_formed_unknown_event_is_still_accepted(client, app):
    body = json.dumps({"id": "evt_ok", "type": "customer.created", "data": {"object": {"id": "cus_1"}}})
    response = client.post(URL, data=body.encode(), headers={
        "Content-Type": "application/json",
        "Stripe-Signature": sign_payload(body, app.config["STRIPE_DEMO_WEBHOOK_SECRET"])})
    assert response.status_code == 200 and response.json["outcome"] == "ignored"

"""An Endpoint never shows its secret headers when printed or logged."""

from __future__ import annotations

from realtime import gemini, openai


def test_endpoint_repr_hides_keys():
    for endpoint in (
        openai.endpoint("sk-CANARY-0123456789abcdef"),
        openai.endpoint("sk-CANARY-0123456789abcdef", base_url="http://127.0.0.1:1/v1"),
        gemini.endpoint("AIzaCANARY0123456789abcdef0123456789ab"),
    ):
        text = repr(endpoint) + str(endpoint) + f"{endpoint}"
        assert "CANARY" not in text
        assert dict(endpoint.headers)  # the key is still there for the connection itself

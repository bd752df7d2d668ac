"""An Endpoint never shows its secret headers when printed or logged."""

from __future__ import annotations

from realtime import gemini_endpoint, gemini_vertex, openai_endpoint


def test_endpoint_repr_hides_keys():
    for endpoint in (
        openai_endpoint.endpoint("sk-CANARY-0123456789abcdef"),
        openai_endpoint.endpoint("sk-CANARY-0123456789abcdef", base_url="http://127.0.0.1:1/v1"),
        gemini_endpoint.endpoint("AIzaCANARY0123456789abcdef0123456789ab"),
        gemini_endpoint.endpoint(
            "AIzaCANARY0123456789abcdef0123456789ab", base_url="https://gw.example"
        ),
        gemini_vertex.endpoint("ya29.CANARY0123456789abcdef", "europe-west4"),
        openai_endpoint.endpoint(
            "CANARY0123456789abcdef",
            "deploy",
            base_url="https://res.openai.azure.com/openai",
            azure=True,
            api_version="2025-04-01-preview",
        ),
    ):
        text = repr(endpoint) + str(endpoint) + f"{endpoint}"
        assert "CANARY" not in text
        assert dict(endpoint.headers)  # the key is still there for the connection itself

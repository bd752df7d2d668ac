"""The session's real offline server for the reliability tests (one per test session)."""

from tests.realtime.local.conftest import local_server

__all__ = ["local_server"]

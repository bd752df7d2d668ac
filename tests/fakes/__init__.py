"""Scripted loopback fake providers (OpenAI Realtime GA, Gemini Live) for tests."""

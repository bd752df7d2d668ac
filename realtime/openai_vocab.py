"""The OpenAI Realtime (GA) vocabulary, written once: event names, limits, defaults, shapes.

Imported by the client core (``realtime/openai.py``), the offline server that speaks the same
protocol (``realtime/local/``) and the test fakes (``tests/fakes/``), so the three cannot drift
apart. Pure constants; no imports.

- ``RATE_HZ``: PCM16 mono both ways, 24 kHz; ``PCM_FORMAT_TYPE``; ``pcm_format()``.
- ``MIN_COMMIT_MS``: the smallest input buffer a commit accepts (100 ms).
- ``VAD_THRESHOLD`` / ``VAD_PREFIX_PADDING_MS`` / ``VAD_SILENCE_MS``: ``server_vad`` defaults.
- ``ClientEvent`` / ``ServerEvent``: event type names; ``CLIENT_EVENT_TYPES``;
  ``IGNORED_SERVER_EVENTS``: server events that carry nothing a client needs.
- ``USAGE_INPUT_DETAILS`` / ``USAGE_OUTPUT_DETAILS``: the ``response.done`` usage shape.
"""

from __future__ import annotations

#: Sample rate of input and output audio (PCM16 mono), Hz.
RATE_HZ = 24_000
#: ``session.audio.*.format.type`` of PCM16.
PCM_FORMAT_TYPE = "audio/pcm"
#: A commit needs at least this much buffered audio (else ``input_audio_buffer_commit_empty``).
MIN_COMMIT_MS = 100

#: ``server_vad`` defaults (also the provider-neutral ``realtime.events.TurnDetection``'s).
VAD_THRESHOLD = 0.5
VAD_PREFIX_PADDING_MS = 300
VAD_SILENCE_MS = 500

#: ``response.done`` usage: token details objects and their fields.
USAGE_INPUT_DETAILS = "input_token_details"
USAGE_OUTPUT_DETAILS = "output_token_details"
USAGE_INPUT_FIELDS = ("text_tokens", "audio_tokens", "image_tokens", "cached_tokens")
USAGE_OUTPUT_FIELDS = ("text_tokens", "audio_tokens")


def pcm_format() -> dict[str, object]:
    """A fresh ``{"type": "audio/pcm", "rate": 24000}`` object."""
    return {"type": PCM_FORMAT_TYPE, "rate": RATE_HZ}


class ErrorCode:
    """``error.code`` values the app treats specially."""

    RESPONSE_CANCEL_NOT_ACTIVE = "response_cancel_not_active"
    #: Races expected in a healthy conversation: a barge-in cancels a response that the
    #: server finished a moment before. Recorded, never shown to the person.
    EXPECTED_RACES = frozenset({RESPONSE_CANCEL_NOT_ACTIVE})


class ClientEvent:
    """Client → server event types."""

    SESSION_UPDATE = "session.update"
    INPUT_AUDIO_BUFFER_APPEND = "input_audio_buffer.append"
    INPUT_AUDIO_BUFFER_COMMIT = "input_audio_buffer.commit"
    INPUT_AUDIO_BUFFER_CLEAR = "input_audio_buffer.clear"
    CONVERSATION_ITEM_CREATE = "conversation.item.create"
    CONVERSATION_ITEM_DELETE = "conversation.item.delete"
    CONVERSATION_ITEM_RETRIEVE = "conversation.item.retrieve"
    CONVERSATION_ITEM_TRUNCATE = "conversation.item.truncate"
    RESPONSE_CREATE = "response.create"
    RESPONSE_CANCEL = "response.cancel"
    OUTPUT_AUDIO_BUFFER_CLEAR = "output_audio_buffer.clear"


#: Every client event type of the GA protocol.
CLIENT_EVENT_TYPES = frozenset(
    v for k, v in vars(ClientEvent).items() if k.isupper() and isinstance(v, str)
)


class ServerEvent:
    """Server → client event types a client acts on."""

    ERROR = "error"
    SESSION_CREATED = "session.created"
    SESSION_UPDATED = "session.updated"
    SPEECH_STARTED = "input_audio_buffer.speech_started"
    SPEECH_STOPPED = "input_audio_buffer.speech_stopped"
    INPUT_COMMITTED = "input_audio_buffer.committed"
    INPUT_CLEARED = "input_audio_buffer.cleared"
    INPUT_TRANSCRIPTION_DELTA = "conversation.item.input_audio_transcription.delta"
    INPUT_TRANSCRIPTION_COMPLETED = "conversation.item.input_audio_transcription.completed"
    INPUT_TRANSCRIPTION_FAILED = "conversation.item.input_audio_transcription.failed"
    ITEM_ADDED = "conversation.item.added"
    ITEM_DONE = "conversation.item.done"
    ITEM_TRUNCATED = "conversation.item.truncated"
    RESPONSE_CREATED = "response.created"
    RESPONSE_DONE = "response.done"
    OUTPUT_ITEM_ADDED = "response.output_item.added"
    OUTPUT_ITEM_DONE = "response.output_item.done"
    CONTENT_PART_ADDED = "response.content_part.added"
    CONTENT_PART_DONE = "response.content_part.done"
    AUDIO_DELTA = "response.output_audio.delta"
    AUDIO_DONE = "response.output_audio.done"
    AUDIO_TRANSCRIPT_DELTA = "response.output_audio_transcript.delta"
    AUDIO_TRANSCRIPT_DONE = "response.output_audio_transcript.done"
    TEXT_DELTA = "response.output_text.delta"
    TEXT_DONE = "response.output_text.done"
    FUNCTION_CALL_ARGUMENTS_DONE = "response.function_call_arguments.done"
    RATE_LIMITS_UPDATED = "rate_limits.updated"


#: Server event types that carry nothing a client needs (known, so not "unknown").
IGNORED_SERVER_EVENTS = frozenset(
    {
        "conversation.created",
        "conversation.item.created",
        ServerEvent.ITEM_ADDED,
        ServerEvent.ITEM_DONE,
        "conversation.item.deleted",
        "conversation.item.retrieved",
        "conversation.item.input_audio_transcription.segment",
        ServerEvent.INPUT_CLEARED,
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        ServerEvent.OUTPUT_ITEM_ADDED,
        ServerEvent.OUTPUT_ITEM_DONE,
        ServerEvent.CONTENT_PART_ADDED,
        ServerEvent.CONTENT_PART_DONE,
        "response.function_call_arguments.delta",
        ServerEvent.RATE_LIMITS_UPDATED,
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    }
)

"""Signal processing shared by ``audio/`` (the app) and ``realtime/local/`` (the server).

It imports nothing from the project. Modules: ``pcm`` (PCM16 helpers, WAV files), ``resample``
(streaming sample-rate conversion), ``vad`` (streaming voice activity detection).
"""

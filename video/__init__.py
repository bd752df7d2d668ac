"""Camera, file/URL and screen sources, frame pacing for the model, and JPEG encoding.

Modules: ``frame`` (Frame, one-slot Mailbox), ``source`` (FrameSource protocol, threaded base with
background retry), ``camera`` (cameras by name/index/path, stream URLs), ``mjpeg`` (direct
MJPEG-over-HTTP reader, libjpeg-turbo decode), ``file`` (paced video file, still image, URL),
``screen`` + ``x11windows`` (monitor/region/window capture), ``pacing`` (pure Pacer),
``perceptual`` (dHash), ``encode`` (resize + JPEG without metadata), ``feed`` (VideoFeed: the frames
that actually leave the machine), ``factory`` (source from a ``--video`` spec), ``opencv``
(process-wide OpenCV thread setting), ``errors`` (VideoError → CameraError, EncodeError).

Nothing here imports Qt, ``realtime`` or ``app``.
"""

"""Device loss/recovery scenario run in its own process by ``test_pulse_recovery`` (a stream whose
server died stays stuck inside PortAudio, which must not leak into the test process).

Prints one JSON line: the kinds of events seen and the device error message.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

from audio.config import AudioConfig
from audio.engine import AudioEngine
from audio.errors import AudioDeviceError
from audio.events import DeviceRecovered, MicAudio
from tests.audio.runner import EngineRunner
from tests.fixtures.pulse import reinit_portaudio, start_pulse, stop_pulse


def main(base: Path) -> None:
    server = start_pulse(base)
    os.environ["PULSE_SERVER"] = server.env["PULSE_SERVER"]
    reinit_portaudio()
    out: dict[str, object] = {}
    try:
        cfg = AudioConfig(input_device="pulse", output_device="pulse", retry_interval_ms=500)
        with EngineRunner(AudioEngine(cfg)) as run:
            run.wait_for(MicAudio)
            t_kill = time.monotonic_ns()
            stop_pulse(server)
            _, err = run.wait_for(AudioDeviceError, timeout=15, after=t_kill)
            out["error"] = err.message
            time.sleep(1.0)  # retries fail while the device is gone
            t_back = time.monotonic_ns()
            server = start_pulse(base)
            _, rec = run.wait_for(DeviceRecovered, timeout=30, after=t_back)
            out["recovered_rate"] = rec.info.sample_rate
            run.wait_for(MicAudio, timeout=10, after=time.monotonic_ns())
            out["audio_after_recovery"] = True
            out["kinds"] = run.kinds()
            out["raised"] = [repr(e) for e in run.errors]
    finally:
        stop_pulse(server)
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))

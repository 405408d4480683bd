# The two commands of the README: `make run` and `make test`. Each creates .venv when missing and
# installs what it needs; the stamps make a second call start at once.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

# PyTorch for the `train` extra. These pins install from this workplace's local wheels; on aarch64 the
# CPU builds of 2.9.1 are the ones that import beside torchvision.
ARCH := $(shell uname -m)
ifeq ($(ARCH),aarch64)
TORCH ?= torch==2.9.1 torchvision==0.24.1
else
TORCH ?= torch==2.14.1 torchvision==0.29.1
endif

.PHONY: run test system-deps lint typecheck unit bench clean

run: $(RUNTIME_STAMP)
	$(VENV)/bin/sitewatch run --config configs/demo.yaml

test: $(DEV_STAMP) system-deps lint typecheck unit

# The RTSP tests stream through GStreamer's RTSP server, driven by Debian's python3 (python3-gi); the API
# tests also run on a PostgreSQL server they start from Debian's binaries; the web UI tests drive Debian's
# Chromium (which also prints PDF briefs, with CJK fonts for the Chinese text).
SYSTEM_PACKAGES := gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-base gstreamer1.0-plugins-good \
	gstreamer1.0-plugins-bad postgresql chromium fonts-noto-cjk
system-deps:
	@{ /usr/bin/python3 -c "import gi; gi.require_version('GstRtspServer', '1.0'); \
		from gi.repository import GstRtspServer" 2>/dev/null && ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
		&& test -x /usr/bin/chromium && test -d /usr/share/fonts/opentype/noto; } \
	|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		$(SYSTEM_PACKAGES) >/dev/null; }

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy

unit: $(DEV_STAMP)
	$(VENV)/bin/pytest

bench: $(RUNTIME_STAMP)
	$(VENV)/bin/sitewatch bench

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# trackers and ultralytics pull opencv-python, insightface the headless build; both write the same
# cv2 folder. Reinstalling the headless one last leaves that folder whole and from one package.
FIX_CV2 = $(PIP) install --quiet --force-reinstall --no-deps \
	"opencv-python-headless==$$($(PY) -c 'import importlib.metadata as m; print(m.version("opencv-python-headless"))')"

$(RUNTIME_STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install --quiet -e .
	$(FIX_CV2)
	touch $@

$(DEV_STAMP): pyproject.toml $(RUNTIME_STAMP)
	$(PIP) install --quiet $(TORCH)
	$(PIP) install --quiet -e '.[dev,train,openvino]'
	$(FIX_CV2)
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache data/demo tests/artifacts

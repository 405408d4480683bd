# sitewatch runtime: onnxruntime on the CPU, no PyTorch (training happens elsewhere, with the train extra).
# Build:  docker build -t sitewatch .
# Run:    docker run --rm -v "$PWD/configs:/config:ro" -v sitewatch-data:/data sitewatch \
#           detect /config/demo/images/site-1.jpg --config /config/demo.yaml
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    SITEWATCH_MODELS_DIR=/models

# libgl/glib for OpenCV's video I/O, libgomp for onnxruntime; g++ only while insightface compiles.
# Chromium and CJK fonts print the PDF briefs (central API); build with --build-arg BRIEF_PDF=0 for an
# edge-only image without them (about 400 MB smaller), which keeps a small CJK font (5 MB) for the Chinese
# labels of annotated snapshots. Clips are encoded by PyAV, whose wheel brings its own FFmpeg (libx264).
ARG BRIEF_PDF=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends libglib2.0-0 libgomp1 g++ \
    && if [ "$BRIEF_PDF" = "1" ]; then apt-get install -y --no-install-recommends chromium fonts-noto-cjk; \
       else apt-get install -y --no-install-recommends fonts-wqy-microhei; fi \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY detector ./detector
COPY streams ./streams
COPY api ./api
COPY alerts ./alerts
COPY sitewatch ./sitewatch
RUN pip install '.[s3]' \
    && apt-get purge -y g++ && apt-get autoremove -y

COPY models /models
COPY configs /config

RUN useradd --system --uid 10001 --home /data sitewatch \
    && mkdir -p /data && chown sitewatch /data
USER sitewatch

VOLUME ["/config", "/models", "/data"]
WORKDIR /data

# The image's health: the configuration validates and the models load and pass their checksums.
HEALTHCHECK --interval=300s --timeout=30s --start-period=30s --retries=3 \
    CMD sitewatch check-config /config/demo.yaml && python -c "from detector.engine import Engine; Engine()" || exit 1

ENTRYPOINT ["sitewatch"]
CMD ["detect", "/config/demo/images/site-1.jpg", "--config", "/config/demo.yaml"]

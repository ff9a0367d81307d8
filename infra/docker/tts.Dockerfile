# The streaming text-to-speech service (vibevoice_platform.tts).
#
# Build from the repository root (the build session does this for you: `nox -s build`):
#   docker build -f infra/docker/tts.Dockerfile --build-arg BASE_IMAGE=<base> .
#
# BASE_IMAGE defaults to the official Python slim image pinned in pyproject.toml
# ([tool.vibevoice-ci.base_image].default). Machines that cannot pull it build an equivalent
# Debian bookworm + Python 3.11 base locally (see docs/ci-cd.md, "Offline base image").
# Works with the classic builder and with BuildKit.
ARG BASE_IMAGE=python:3.11.14-slim-bookworm

# ---- dependencies: a venv from the hashed, locked requirements (cached unless they change) ----
FROM ${BASE_IMAGE} AS deps
# Extra CA certificates (TLS-intercepting or corporate proxies), staged by the build session
# into .build/ca-certificates; used only by this stage, never shipped in the runtime image.
COPY .build/ca-certificates/ /usr/local/share/ca-certificates/extra/
RUN update-ca-certificates
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DEFAULT_TIMEOUT=120
COPY infra/docker/requirements/tts.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.txt

# ---- runtime: the venv, the source, a non-root user ----
FROM ${BASE_IMAGE}
ARG SERVICE_PORT=8000
LABEL org.opencontainers.image.title="vibevoice-tts" \
      org.opencontainers.image.description="Streaming text-to-speech service (Piper, espeak-ng; VibeVoice slot)" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      org.opencontainers.image.vendor="vibevoice-realtime" \
      org.opencontainers.image.documentation="docs/tts-service.md"
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin vibevoice
COPY --from=deps /opt/venv /opt/venv
COPY src/vibevoice_platform /opt/app/vibevoice_platform
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIBEVOICE_TTS_HOST=0.0.0.0 \
    VIBEVOICE_TTS_PORT=${SERVICE_PORT}
USER 10001
EXPOSE ${SERVICE_PORT}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=60s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['VIBEVOICE_TTS_PORT'] + '/ready', timeout=2)"]
CMD ["python3", "-m", "vibevoice_platform.tts"]

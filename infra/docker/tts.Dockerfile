# The streaming text-to-speech service (vibevoice_platform.tts).
#
# Build from the repository root (the build session does this for you: `nox -s build`):
#   docker build -f infra/docker/tts.Dockerfile --build-arg BASE_IMAGE=<base> .
#
# BASE_IMAGE defaults to the stage `python-base`: the official Python slim image pinned in
# pyproject.toml ([tool.vibevoice-ci.base_image].default), written out as a literal FROM line
# because that is the only form Dependabot's docker updater reads and bumps (it skips
# `FROM ${VAR}` and never looks at ARG defaults; tests/unit/test_dependabot_docker.py). The
# pipeline passes pyproject.toml's default as BASE_IMAGE, so Dependabot's pull request must
# bump it there too: tests/unit/test_config_agreement.py fails until both say the same tag.
# Machines that cannot pull it build an equivalent Debian bookworm + Python 3.11 base locally
# (docs/ci-cd.md, "Offline base image") and pass that. Needs BuildKit: it skips the
# `python-base` stage when BASE_IMAGE names another image; the classic builder would pull it.
ARG BASE_IMAGE=python-base

# ---- the default base, as Dependabot reads it (unused, so never pulled, when overridden) ----
FROM python:3.11.14-slim-bookworm AS python-base

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

# The voice agent service (vibevoice_platform.agent): replies from Anthropic's Messages API
# (when ANTHROPIC_API_KEY is set) or a local responder, spoken through the tts service.
#
# Build from the repository root (the build session does this for you: `nox -s build`):
#   docker build -f infra/docker/agent.Dockerfile --build-arg BASE_IMAGE=<base> .
#
# Same base-image and CA-certificate handling as tts.Dockerfile (docs/ci-cd.md): the default
# base is the literal FROM line of the `python-base` stage, which Dependabot bumps.
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
COPY infra/docker/requirements/agent.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --no-deps --only-binary=:all: \
        -r /tmp/requirements.txt

# ---- runtime: the venv, the source, a non-root user ----
FROM ${BASE_IMAGE}
ARG SERVICE_PORT=8080
LABEL org.opencontainers.image.title="vibevoice-agent" \
      org.opencontainers.image.description="Voice agent: streamed LLM replies spoken sentence by sentence through the tts service" \
      org.opencontainers.image.licenses="GPL-3.0-or-later" \
      org.opencontainers.image.vendor="vibevoice-realtime" \
      org.opencontainers.image.documentation="docs/agent-service.md"
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin vibevoice
COPY --from=deps /opt/venv /opt/venv
# The agent imports a few helpers of the tts package (settings parsing, the drain), not its
# engines: the tts engines' packages are not installed in this image.
COPY src/vibevoice_platform /opt/app/vibevoice_platform
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/opt/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    VIBEVOICE_AGENT_HOST=0.0.0.0 \
    VIBEVOICE_AGENT_PORT=${SERVICE_PORT}
USER 10001
EXPOSE ${SERVICE_PORT}
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ['VIBEVOICE_AGENT_PORT'] + '/ready', timeout=2)"]
CMD ["python3", "-m", "vibevoice_platform.agent"]

# A tiny image for the release build's integration test: the base, a label, a command.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="vibevoice-probe" \
      org.opencontainers.image.licenses="GPL-3.0-or-later"
CMD ["python3", "-c", "import platform; print(platform.machine())"]

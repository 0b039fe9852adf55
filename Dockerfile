# The uploader as a long-lived service: `docker run -v uploader-queue:/var/lib/uploader IMAGE`.
#
# Every step here is one CI runs too, so the image cannot rot unseen: the build stage runs
# `make install` (CI: `make install-check` does the same install and starts the entrypoint),
# and tests/acceptance/test_container.py runs this file's ENTRYPOINT, CMD, ENV and HEALTHCHECK
# against the installed package.
#
# Stopping: SIGTERM stops new batches; in-flight ones get worker.shutdown_timeout_s (default
# 20 s), then the rest return to the queue, then HTTP requests in progress get 5 s. Give the
# container longer than the sum: `docker stop -t 30` or compose `stop_grace_period: 30s`
# (Docker's default is only 10 s).

FROM python:3.11-slim-bookworm AS build
# make runs the very install target CI runs. It stays in this stage, so its version never
# reaches the image.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml README.md Makefile constraints.txt ./
COPY uploader ./uploader
RUN make install RUNTIME=/opt/uploader

FROM python:3.11-slim-bookworm
ENV PATH=/opt/uploader/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /opt/uploader /opt/uploader
RUN groupadd --system --gid 10001 uploader \
    && useradd --system --uid 10001 --gid uploader --no-create-home \
        --home-dir /var/lib/uploader --shell /usr/sbin/nologin uploader \
    && mkdir -p /var/lib/uploader /etc/uploader \
    && chown uploader:uploader /var/lib/uploader
# The queue (SQLite, WAL files beside it) must outlive the container.
VOLUME /var/lib/uploader
WORKDIR /var/lib/uploader
ENV UPLOADER_QUEUE=sqlite:///var/lib/uploader/queue.db \
    UPLOADER_SERVER__LISTEN=0.0.0.0:8787
USER 10001:10001
EXPOSE 8787
STOPSIGNAL SIGTERM
# No curl in the slim image: the health probe is the interpreter's own urllib, on the port of
# UPLOADER_SERVER__LISTEN.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('UPLOADER_SERVER__LISTEN', ':8787').rpartition(':')[2]; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["uploader"]
CMD ["run"]

# warroom's image: the worker (`worker`, the default), the intake (`intake`) or any other `warroom` command.
# Non-root, and no secret in any layer: tokens, API keys and channel secrets come from the environment or an
# env file at run time (docker-compose.yml, docs/operations.md). tests/deploy/test_dockerfile.py checks both.

FROM python:3.11.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN python -m venv /opt/warroom
COPY . /src
RUN /opt/warroom/bin/pip install /src

FROM python:3.11.11-slim-bookworm
RUN groupadd --system --gid 10001 warroom \
    && useradd --system --uid 10001 --gid warroom --home-dir /var/lib/warroom --create-home warroom \
    && mkdir -p /etc/warroom
COPY --from=build /opt/warroom /opt/warroom
ENV PATH=/opt/warroom/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    WARROOM_DATA_DIR=/var/lib/warroom \
    WARROOM_LOG_FORMAT=json
WORKDIR /var/lib/warroom
USER 10001:10001
# 8480: the intake; 9464: the worker's Prometheus endpoint (WARROOM_METRICS_ADDRESS=0.0.0.0:9464).
EXPOSE 8480 9464
ENTRYPOINT ["warroom"]
CMD ["worker"]

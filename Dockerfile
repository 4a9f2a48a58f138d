# The gridhub hub for production-like runs (see docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 GRIDHUB_DATA_DIR=/var/lib/gridhub
WORKDIR /opt/gridhub
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY adapters ./adapters
COPY detectors ./detectors
COPY demo ./demo
COPY evaluation ./evaluation
COPY config ./config
RUN pip install ".[vision,detect]" && useradd --system --home /var/lib/gridhub gridhub \
    && mkdir -p /var/lib/gridhub && chown gridhub /var/lib/gridhub
USER gridhub
EXPOSE 8080
# Waits for the database and broker, migrates, then serves.
CMD ["gridhub", "run", "--config", "/etc/gridhub/site.yaml", "--host", "0.0.0.0", "--wait", "120"]

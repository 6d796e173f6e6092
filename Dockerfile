# One image for the api and the worker (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY common ./common
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY integrations ./integrations
COPY store ./store
COPY api ./api
COPY workers ./workers
COPY simulators ./simulators
COPY cli ./cli
COPY console ./console
# A fixed uid, so files mounted from the host (TLS keys) can be given to it. The data
# directory (packages, keys) is the service's alone: 0700, new files 0600 (umask below).
RUN pip install . && useradd --system --uid 10001 --home /app orch \
    && mkdir -p /data /etc/idrac-orch/ca /etc/idrac-orch/temporal-tls \
    && chown orch /data && chmod 0700 /data

USER orch
ENV IDRAC_ORCH_DATA_DIR=/data IDRAC_ORCH_LOG_FORMAT=json
EXPOSE 8000
# umask 077: whatever the service writes under /data is owner-only.
ENTRYPOINT ["sh", "-c", "umask 077 && exec \"$@\"", "--"]
CMD ["idrac-orch", "api"]

# The footcast code location image: the Dagster gRPC code server, and the run worker that the
# run launcher starts for each run (K8sRunLauncher on Kubernetes, see deploy/helm/values.yaml).
# Build: docker build -t footcast:$(git rev-parse --short HEAD) .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # The production instance (deploy/dagster.production.yaml: PostgreSQL from DAGSTER_PG_*).
    # On Kubernetes the Helm chart mounts its own dagster.yaml over it.
    DAGSTER_HOME=/opt/dagster/dagster_home \
    FOOTCAST_HOME=/var/lib/footcast \
    # Schedules and sensors run as soon as the code location loads.
    FOOTCAST_AUTOMATION=running \
    # XGBoost's OpenMP threads wait passively: no spinning on shared nodes.
    OMP_WAIT_POLICY=PASSIVE

RUN groupadd --system --gid 10001 footcast \
    && useradd --system --uid 10001 --gid footcast --no-create-home --shell /usr/sbin/nologin footcast

WORKDIR /opt/footcast
# Dependencies are pinned in pyproject.toml (hence DL3013 ignored); the k8s extra brings dagster-k8s, which run workers
# need to load the Helm chart's instance (K8sRunLauncher).
COPY pyproject.toml README.md ./
COPY footcast ./footcast
# hadolint ignore=DL3013
RUN pip install ".[k8s]"

COPY workspace.yaml ./
COPY deploy/dagster.production.yaml ${DAGSTER_HOME}/dagster.yaml
RUN mkdir -p "${FOOTCAST_HOME}" && chown -R footcast:footcast "${FOOTCAST_HOME}" "${DAGSTER_HOME}"

# Numeric, so Kubernetes can verify runAsNonRoot.
USER 10001:10001
EXPOSE 4000
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s \
    CMD ["dagster", "api", "grpc-health-check", "-p", "4000"]
CMD ["dagster", "code-server", "start", "--host", "0.0.0.0", "--port", "4000", \
     "--module-name", "footcast.pipelines.definitions", "--location-name", "footcast"]

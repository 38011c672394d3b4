# Casework image: the API (uvicorn), the Temporal worker and the one-shot `cli.py setup`
# all run from it; docker-compose.yml and deploy/k8s/ pick the command per process.
# Only the runtime dependencies of pyproject.toml are installed: not the `local` extra
# (temporal CLI, test server, embedded PostgreSQL) nor `dev` (tests/deploy/test_dockerfile.py checks it).

# --- build: a virtualenv with the runtime dependencies, from pyproject.toml alone, so
# the layer is cached until the dependency list changes (not on every source edit).
FROM python:3.11-slim AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv
COPY pyproject.toml /tmp/pyproject.toml
RUN python -c "import tomllib; deps = tomllib.load(open('/tmp/pyproject.toml', 'rb'))['project']['dependencies']; open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && /opt/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# --- runtime: the virtualenv and the source, no compiler, no pip cache, no root.
FROM python:3.11-slim AS runtime

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 casework \
 && useradd --system --uid 10001 --gid casework --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin casework

COPY --from=build /opt/venv /opt/venv
# Commands run from /app, so alembic.ini and migrations/ are found relative to it; /app
# stays root-owned and read-only to the runtime user (see .dockerignore for what is left out).
WORKDIR /app
COPY . .

USER 10001:10001

EXPOSE 8000
# The API's liveness; compose and k8s set their own per process (worker: worker.py --check).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000"]

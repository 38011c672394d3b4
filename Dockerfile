# Casework image: API (uvicorn), Temporal worker and the one-shot `cli.py setup`
# all run from this image; docker-compose.yml picks the command per service.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so this layer is cached until
# the dependency list changes (not on every source edit).
COPY pyproject.toml ./
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project'].get('dependencies', []); open('/tmp/requirements.txt', 'w').write('\n'.join(deps) + '\n')" \
 && pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Source (see .dockerignore), then the project itself. Commands run from /app,
# so alembic.ini and migrations/ are found relative to the working directory.
COPY . .
RUN pip install --no-cache-dir . \
 && rm -rf build *.egg-info

# Unprivileged runtime user; /app stays root-owned and read-only to it.
RUN groupadd --system casework \
 && useradd --system --gid casework --home-dir /app --no-create-home --shell /usr/sbin/nologin casework
USER casework

EXPOSE 8000
CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000"]

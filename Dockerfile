# survivor-link with Airflow 3.3, for docker-compose.yml: one image for every Airflow component.
# The same lock file as a developer's machine: uv installs exactly what uv.lock says.
FROM python:3.11-slim-bookworm

ENV PYTHONUNBUFFERED=1 \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/survivor-link/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/survivor-link/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    SURVIVOR_LINK_HOME=/data

RUN pip install --no-cache-dir uv==0.13.9 \
 && useradd --create-home --uid 50000 airflow \
 && mkdir -p /opt/airflow /data \
 && chown airflow /opt/airflow /data

WORKDIR /opt/survivor-link
# Dependencies first (cached while only our code changes), then our package.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --extra airflow --no-install-project --compile-bytecode
COPY linkage ./linkage
COPY dags ./dags
COPY plugins ./plugins
COPY sources ./sources
COPY expectations ./expectations
COPY deploy ./deploy
RUN uv sync --frozen --no-dev --extra airflow --compile-bytecode

USER airflow
ENTRYPOINT ["airflow"]
CMD ["version"]

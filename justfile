# Pregon's commands. `just --list` shows them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# sqlx/apalis read DATABASE_URL at build time and break when it is set (docs/operations.md); Pregon uses PREGON_DATABASE_URL.
export SQLX_OFFLINE := "true"

# Start the service on the embedded default (SQLite under ./data, sandbox provider).
run:
    env -u DATABASE_URL cargo run --release

# Run every test: unit tests, the store conformance suite on SQLite and PostgreSQL, the HTTP and CLI tests.
# PostgreSQL must answer at PREGON_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres).
test:
    if cargo nextest --version >/dev/null 2>&1; then \
        env -u DATABASE_URL cargo nextest run --workspace --no-fail-fast; \
    else \
        env -u DATABASE_URL cargo test --workspace --no-fail-fast; \
    fi

# Every benchmark (for now, the ingest benchmark). Release builds; a measurement to read, never a timed test.
bench: bench-ingest

# Generates a 1,000,000-row Chat-Tonic CSV (3 parameters), the same rows as JSON and 200,000 as XLSX; PostgreSQL at
# PREGON_TEST_POSTGRES_URL; extra flags pass through (`just bench-ingest --help`); writes target/bench/ingest.{md,json}.
# Ingest benchmark (DESIGN §8): rows/s and peak RSS on SQLite and PostgreSQL vs `psql \copy` and a bare INSERT.
bench-ingest *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest -- {{ARGS}}

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    env -u DATABASE_URL cargo clippy --workspace --all-targets -- -D warnings

# Format the code.
fmt:
    cargo fmt --all

# What CI runs on a fresh machine (installs and starts PostgreSQL when missing).
ci:
    bash .ci/run

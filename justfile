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

# Every benchmark. Release builds; a measurement to read, never a timed test.
bench: bench-ingest bench-send bench-progress

# Generates a 1,000,000-row Chat-Tonic CSV (3 parameters), the same rows as JSON and 200,000 as XLSX; PostgreSQL at
# PREGON_TEST_POSTGRES_URL; extra flags pass through (`just bench-ingest --help`); writes target/bench/ingest.{md,json}.
# Ingest benchmark (DESIGN §8): rows/s and peak RSS on SQLite and PostgreSQL vs `psql \copy` and a bare INSERT.
bench-ingest *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-ingest -- {{ARGS}}

# Send benchmark (DESIGN §8): one Meta account at 1,000 msg/s (concurrency 400) against the mock provider answering in
# 200 ms, 100,000 messages, on SQLite and PostgreSQL (PREGON_TEST_POSTGRES_URL), against a bare reqwest client with
# the same pacing; sustained msg/s, max in any second, start delay, statuses; writes target/bench/send.{md,json}.
bench-send *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-send -- {{ARGS}}

# Progress and webhooks (issue 5): 10,000,000 messages COPYed into a fresh PostgreSQL database
# (PREGON_TEST_POSTGRES_URL), then p50/p95/p99 of `GET /v1/campaigns/{id}` (target p99 < 50 ms) and of deep keyset
# message pages, and signed Meta status webhooks applied per second; `--messages 200000` for a quick run;
# writes target/bench/progress.{md,json}.
bench-progress *ARGS:
    env -u DATABASE_URL cargo run --release -p pregon-bench --bin bench-progress -- {{ARGS}}

# Installs cargo-fuzz if missing, seeds fuzz/corpus/ from fixtures/, and runs each target of fuzz/fuzz_targets in
# turn on stable Rust through RUSTC_BOOTSTRAP (cargo fuzz needs nightly flags), with AddressSanitizer
# (docs/reliability.md, "Fuzzing").
# Fuzz every target for SECONDS each; fails if one crashed (its input is then in fuzz/artifacts/<target>/).
fuzz SECONDS="30":
    #!/usr/bin/env bash
    set -euo pipefail
    cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked
    fuzz/seed.sh
    export RUSTC_BOOTSTRAP=1
    # Each run rewrites its input to a scratch file (the readers need a path); keep that off the disk when possible.
    if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ]; then export TMPDIR=/dev/shm; fi
    cd fuzz
    failed=()
    for target in $(cargo fuzz list); do
        echo "== $target: {{SECONDS}} s"
        # -timeout: a single input taking 20 s is a hang, reported as a crash.
        if ! cargo fuzz run "$target" -- -max_total_time={{SECONDS}} -timeout=20 -print_final_stats=1; then
            failed+=("$target")
        fi
    done
    rm -f "${TMPDIR:-/tmp}"/pregon-fuzz-*
    if [ ${#failed[@]} -gt 0 ]; then
        echo "crashed: ${failed[*]}; inputs in $PWD/artifacts/<target>/ (replay: cargo fuzz run <target> <file>)" >&2
        exit 1
    fi
    echo "no crash; the corpora grew in $PWD/corpus/"

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

#!/usr/bin/env bash
# Schemathesis over every operation of the JSON API, as a client with an API key would call it:
# a demo store, an owner, a key made through the API, then `st run` bounded in examples and time.
# Passes when no operation answers a 5xx and every answer matches the OpenAPI document.
# Usage: .ci/schemathesis.sh [PATH-TO-trailmap]   (needs `pip install schemathesis`; the CLI's test
# `schemathesis::every_api_operation_passes_schemathesis` runs it with the freshly built binary).
# Excluded: the caller's own password, sessions and keys (a run that changes them locks itself out).
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(realpath "${1:-target/debug/trailmap}")"
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
export TRAILMAP_DB="$work/st.sqlite"
"$bin" demo --customers 300 --no-serve >/dev/null
printf 'schemathesis password\n' | "$bin" user create --email st@example.com --name Schemathesis --password-stdin >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$bin" serve --port "$port" >"$work/server.log" 2>&1 &
server=$!
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do curl -fsS "$base/login" >/dev/null 2>&1 && break; sleep 0.1; done
jar="$work/cookies"
form=$(curl -fsS -c "$jar" "$base/login" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
curl -fsS -b "$jar" -c "$jar" -o /dev/null --data-urlencode "csrf=$form" --data-urlencode "email=st@example.com" \
  --data-urlencode "password=schemathesis password" --data-urlencode "next=/account/keys" "$base/login"
csrf=$(curl -fsS -b "$jar" "$base/account/keys" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -1)
key=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' -d '{"name":"schemathesis"}' "$base/api/keys" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])')
# Schemathesis keeps a cache where it runs: in the scratch folder, not the repository.
cd "$work"
st run "$base/api/openapi.json" \
  --header "Authorization: Bearer $key" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples "${ST_MAX_EXAMPLES:-20}" \
  --exclude-path-regex '/password-reset$|/password$|/sessions|/keys/' \
  --request-timeout 20 \
  --seed "${ST_SEED:-20261206}" \
  --workers 1

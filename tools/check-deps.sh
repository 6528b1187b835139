#!/usr/bin/env bash
# Enforces the layout invariants of docs/ARCHITECTURE.md on the real dependency graph:
# the pure crates pull in no storage, async runtime, network or HTTP crate, and only
# coop-store may depend on sled.
set -euo pipefail
cd "$(dirname "$0")/.."

# getrandom is here too: randomness comes into the pure crates as an argument.
forbidden_pure='^(sled|tokio|axum|hyper|reqwest|tower|tower-http|mio|rustls|async-std|smol|libc|nix|tracing-subscriber|getrandom|rayon|crossbeam-channel)$'
fail=0

deps_of() { # normal (non-dev, non-build) dependencies of a package, one name a line
  cargo tree --locked -p "$1" -e normal --prefix none --format '{p}' 2>/dev/null \
    | awk '{print $1}' | sort -u
}

for pkg in coop-core coop-treaty; do
  if ! cargo tree --locked -p "$pkg" -e normal --depth 0 >/dev/null 2>&1; then
    continue # that crate does not exist yet
  fi
  bad=$(deps_of "$pkg" | grep -E "$forbidden_pure" || true)
  if [ -n "$bad" ]; then
    echo "FAIL: $pkg must stay pure but depends on: $bad"
    fail=1
  else
    echo "ok: $pkg has no I/O, runtime or storage dependency"
  fi
done

# The auditor's verifier: core and treaty, and threads for signatures; never the store,
# the engine, the node, a runtime or a network stack.
forbidden_verify='^(coop-store|coop-ledger|coop-node|coop-cli|sled|tokio|axum|hyper|reqwest|tower|tower-http|mio|rustls|async-std|smol)$'
bad=$(deps_of coop-verify | grep -E "$forbidden_verify" || true)
if [ -n "$bad" ]; then
  echo "FAIL: coop-verify must not depend on: $bad"
  fail=1
else
  echo "ok: coop-verify depends on no store, engine, node, runtime or network crate"
fi

# Direct dependencies: only coop-store names sled itself.
direct_sled=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] != "coop-store" and any(d["name"] == "sled" for d in p["dependencies"]):
        print(p["name"])
')
if [ -n "$direct_sled" ]; then
  echo "FAIL: only coop-store may depend on sled, but so do: $direct_sled"
  fail=1
else
  echo "ok: only coop-store depends on sled"
fi
# Direct (non-dev) dependencies on HTTP crates: only coop-node (and the benchmarks).
direct_http=$(cargo metadata --locked --no-deps --format-version 1 | python3 -c '
import json, sys
http = {"axum", "axum-server", "hyper", "reqwest", "tower-http"}
for p in json.load(sys.stdin)["packages"]:
    if p["name"] in ("coop-node", "coop-bench"):
        continue
    bad = [d["name"] for d in p["dependencies"] if d["name"] in http and d.get("kind") is None]
    if bad:
        print(p["name"], ",".join(bad))
')
if [ -n "$direct_http" ]; then
  echo "FAIL: only coop-node may depend on HTTP crates, but: $direct_http"
  fail=1
else
  echo "ok: only coop-node depends on HTTP crates"
fi
exit $fail

#!/usr/bin/env bash
# The published shape (issue 12): packs the package (`npm pack`), checks the tarball holds only what a user
# needs, and installs it into fresh temporary projects with only the peers each one needs, from the registry:
#   core     scim-sso alone (neither Express nor Koa)
#   express  scim-sso + express (no koa)
#   koa      scim-sso + koa (no express)
#   redis    scim-sso + ioredis (no framework)
#   cjs      scim-sso + express in a CommonJS project (require() of the ES module, Node >= 20.19)
# Each project compiles its app (.ci/consumer/<name>.ts) with tsc, skipLibCheck false, and runs it.
# Prints the matrix; exits non-zero on any failure. Needs the registry (npm install).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# Peer and tool versions: the ones this repository tests with (package.json devDependencies).
dev() { node -p "require('./package.json').devDependencies['$1']"; }
TS="typescript@$(dev typescript)"
NODE_TYPES="@types/node@$(dev @types/node)"

[ -f dist/index.js ] || npm run build >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"

# The tarball: package.json, README.md, LICENSE, docs/*.md (the README's links) and dist's JS and declarations;
# no source maps, no src/.
tar -tzf "$tarball" | sed 's#^package/##' | sort >"$work/contents"
unexpected=$(grep -vE '^(package\.json|README\.md|LICENSE|docs/[a-z-]+\.md|dist/.+\.(js|d\.ts))$' "$work/contents" || true)
files=$(wc -l <"$work/contents" | tr -d ' ')
if [ -n "$unexpected" ]; then
  echo "consumer-check: unexpected files in the tarball:"; echo "$unexpected"; exit 1
fi

declare -A installs=(
  [core]=""
  [express]="express@$(dev express) @types/express@$(dev @types/express)"
  [koa]="koa@$(dev koa) @types/koa@$(dev @types/koa)"
  [redis]="ioredis@$(dev ioredis)"
  [cjs]="express@$(dev express) @types/express@$(dev @types/express)"
)
declare -A absent=(
  [core]="express koa ioredis passport koa-passport"
  [express]="koa koa-passport ioredis passport"
  [koa]="express koa-passport ioredis passport"
  [redis]="express koa passport koa-passport"
  [cjs]="koa koa-passport ioredis passport"
)

rows=()
failed=0
for name in core express koa redis cjs; do
  dir="$work/$name"
  mkdir -p "$dir"
  cp ".ci/consumer/$name.ts" "$dir/app.ts"
  # Every project an ES module but cjs, a CommonJS one (no "type"), whose imports compile to require().
  module_type=', "type": "module"'
  [ "$name" = cjs ] && module_type=''
  cat >"$dir/package.json" <<JSON
{ "name": "consumer-$name", "private": true$module_type }
JSON
  cat >"$dir/tsconfig.json" <<'JSON'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
    "skipLibCheck": false, "types": ["node"], "outDir": "out", "lib": ["ES2023", "DOM"]
  },
  "files": ["app.ts"]
}
JSON
  install=ok compile=- run=- missing=""
  # shellcheck disable=SC2086
  if ! (cd "$dir" && npm install --silent --no-audit --no-fund --save-exact "$tarball" $TS $NODE_TYPES ${installs[$name]} >"$dir/install.log" 2>&1); then
    install=FAIL; failed=1; cat "$dir/install.log"
  else
    for package in ${absent[$name]}; do [ -e "$dir/node_modules/$package" ] && missing="$missing $package"; done
    if [ -n "$missing" ]; then install="FAIL (installed:$missing)"; failed=1; fi
    if (cd "$dir" && npx --no-install tsc -p tsconfig.json >"$dir/tsc.log" 2>&1); then compile=ok; else compile=FAIL; failed=1; cat "$dir/tsc.log"; fi
    if [ "$compile" = ok ]; then
      if (cd "$dir" && node out/app.js >"$dir/run.log" 2>&1); then run=ok; else run=FAIL; failed=1; cat "$dir/run.log"; fi
    fi
  fi
  rows+=("$(printf '%-8s %-44s %-10s %-24s %s' "$name" "scim-sso ${installs[$name]}" "$install" "$compile" "$run")")
done

echo "consumer-check: $(basename "$tarball"), $files files (package.json, README.md, LICENSE, docs, dist JS + d.ts only)"
printf '%-8s %-44s %-10s %-24s %s\n' project "installed (+ typescript, @types/node)" install "tsc skipLibCheck:false" run
for row in "${rows[@]}"; do echo "$row"; done
exit "$failed"

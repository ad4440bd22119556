#!/usr/bin/env bash
# A user's first hour, as CI: pack every package as `pnpm publish` would, install the tarballs
# with plain npm into a fresh app outside the repository (nothing beside it, no workspace), compile
# that app with the user's strict tsc (module NodeNext, no skipLibCheck, no DOM lib), run it and
# check what it prints. Needs built packages (pnpm build) and, for npm, the registry only.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
keep() { echo "pack-install: failed; its files are in $work"; }
trap keep ERR

packs="$work/packs"
mkdir -p "$packs"
for pkg in "$repo"/packages/*/; do
  (cd "$pkg" && pnpm pack --pack-destination "$packs" >/dev/null)
done

# pnpm pack must have turned every workspace: range into the version of that package.
node - "$packs" <<'JS'
const { execFileSync } = require("node:child_process");
const { readdirSync } = require("node:fs");
const dir = process.argv[2];
const manifests = readdirSync(dir).map((file) =>
  JSON.parse(execFileSync("tar", ["-xOzf", `${dir}/${file}`, "package/package.json"], { encoding: "utf8" })),
);
const versions = new Map(manifests.map((m) => [m.name, m.version]));
let bad = 0;
for (const m of manifests) {
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [name, range] of Object.entries(m[field] ?? {})) {
      const own = versions.get(name);
      if (range.startsWith("workspace:") || (own !== undefined && range !== own)) {
        console.error(`${m.name} ${field}.${name}: "${range}" (the packed ${name} is ${own})`);
        bad++;
      }
    }
  }
}
if (bad > 0) process.exit(1);
console.log(`pack-install: ${manifests.length} tarballs, every @threadbus range a real version`);
JS

app="$work/app"
cp -r "$repo/scripts/first-app" "$app"
for dir in "$work" "$(dirname "$work")" /; do
  if [ -e "$dir/node_modules" ]; then echo "pack-install: $dir/node_modules would be visible to the app"; exit 1; fi
done
typescript=$(node -p 'require(process.argv[1]).devDependencies.typescript' "$repo/package.json")
types_node=$(node -p 'require(process.argv[1]).devDependencies["@types/node"]' "$repo/package.json")
cd "$app"
npm install --no-audit --no-fund --loglevel=error "$packs"/*.tgz "typescript@$typescript" "@types/node@$types_node"
npx --no-install tsc -p tsconfig.json
output=$(timeout 60 node dist/main.js)
echo "$output"
grep -q '^first-app OK: 200 events from a worker, 200 checksums' <<<"$output"
echo "pack-install: installed, compiled strict without skipLibCheck, ran: OK"
rm -rf "$work"

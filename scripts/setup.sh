#!/usr/bin/env bash
# Sets the kit up from the repository alone; safe to run again (every step is skipped when already done).
#
#   scripts/setup.sh               .NET tools and packages, Release build, native checks, Jupyter + the C# kernel
#   scripts/setup.sh --test-deps   also the test-time references (python3-zarr/numcodecs, python3-torch; GNU parallel for the study test;
#                                  Chromium for the browser test of the results site)
#
# System packages come from apt when running as root on Debian/Ubuntu; otherwise the script says what to install
# (or use conda: `conda env create -f environment.yml && conda activate dpag`, then run this script).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TEST_DEPS=0
for arg in "$@"; do
  case "$arg" in
    --test-deps) TEST_DEPS=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup: unknown option '$arg' (known: --test-deps, --help)" >&2; exit 2 ;;
  esac
done
log() { printf '[setup %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

# 1. The .NET 10 SDK.
command -v dotnet >/dev/null || die "the .NET 10 SDK is not on PATH. Install it (Debian/Ubuntu: Microsoft's packages, or 'conda env create -f environment.yml') and run again."
sdk_major="$(dotnet --version | cut -d. -f1)"
[ "$sdk_major" -ge 10 ] || die "the .NET SDK on PATH is $(dotnet --version); the kit needs 10.0 or later."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# 2. System packages: Jupyter (notebooks), Chipmunk2D 7.0.3 (the Push-T physics engine), MathJax and require.js (copied
#    into the offline results site, `dpag site`).
packages=(jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook libchipmunk7 libjs-mathjax libjs-requirejs)
[ "$TEST_DEPS" = 1 ] && packages+=(python3-zarr python3-numcodecs python3-torch parallel chromium)
missing=()
if command -v dpkg >/dev/null; then
  for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing Debian packages: ${missing[*]}"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
      log "missing Debian packages: ${missing[*]}"
      log "install them with: sudo apt-get install ${missing[*]}   (or use the conda route in README.md)"
    fi
  fi
else
  log "not a Debian system: install Jupyter (nbconvert, nbclient, ipykernel) and Chipmunk2D 7 yourself, or use conda (README.md)."
fi

# 3. .NET tools (the pinned dotnet-interactive kernel) and packages, then a Release build.
log "restoring .NET tools"
dotnet tool restore >/dev/null
log "building (Release)"
dotnet build DpAg.Notebooks.sln -c Release -nologo -clp:ErrorsOnly -v:q

# 4. TorchSharp natives: load them, applying the libstdc++ compatibility fix where this system needs it.
log "checking the TorchSharp runtime"
dotnet lib/DpAg.Cli/bin/Release/net10.0/DpAg.Cli.dll doctor --device cpu --runtime-only
# The notebook library has its own copy of the natives; fix it now rather than in the first kernel.
dotnet lib/DpAg.Cli/bin/Release/net10.0/DpAg.Cli.dll fix-natives lib/DpAg.Notebook/bin >/dev/null

# 5. The .NET C# Jupyter kernel, registered with absolute paths (no PATH lookup of `dotnet interactive`).
JUPYTER="$(command -v jupyter || true)"
[ -x /usr/bin/jupyter ] && JUPYTER=/usr/bin/jupyter
if [ -n "$JUPYTER" ]; then
  # Where `dotnet tool restore` put the pinned kernel: its resolver cache knows (the package may sit in an earlier
  # NuGet folder than the current one); else look in the current NuGet folder.
  tool_dll=""
  cache_file="$(ls "${DOTNET_CLI_HOME:-$HOME}"/.dotnet/toolResolverCache/*/microsoft.dotnet-interactive 2>/dev/null | head -1 || true)"
  if [ -n "$cache_file" ]; then
    tool_dll="$(grep -o '"PathToExecutable":"[^"]*/1\.0\.712001/[^"]*"' "$cache_file" | head -1 | sed 's/^"PathToExecutable":"//; s/"$//' || true)"
  fi
  if [ ! -f "$tool_dll" ]; then
    packages_dir="$(dotnet nuget locals global-packages -l | sed 's/^global-packages: //')"
    tool_dll="$(ls -d "${packages_dir%/}"/microsoft.dotnet-interactive/1.0.712001/tools/net*/any/Microsoft.DotNet.Interactive.App.dll 2>/dev/null | head -1 || true)"
  fi
  [ -f "$tool_dll" ] || die "dotnet-interactive 1.0.712001 was not restored (run 'dotnet tool restore' and look for errors)."
  dotnet_path="$(readlink -f "$(command -v dotnet)")"
  kernel_dir="$("$JUPYTER" --data-dir 2>/dev/null | tail -1)/kernels/.net-csharp"
  mkdir -p "$kernel_dir"
  cat > "$kernel_dir/kernel.json.tmp" <<JSON
{
  "argv": ["$dotnet_path", "$tool_dll", "jupyter", "--default-kernel", "csharp", "{connection_file}", "--http-port-range", "2048-3000"],
  "display_name": ".NET (C#)",
  "language": "C#",
  "env": {"DOTNET_CLI_TELEMETRY_OPTOUT": "1", "DOTNET_NOLOGO": "1"}
}
JSON
  mv "$kernel_dir/kernel.json.tmp" "$kernel_dir/kernel.json"
  log "registered the .NET (C#) Jupyter kernel in $kernel_dir"
else
  log "Jupyter is not installed: notebooks cannot run until it is (see README.md, 'Jupyter')."
fi
log "done"

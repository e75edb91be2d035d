# Shared helpers for dev/run and dev/test: install what is missing, nothing more.
# shellcheck shell=bash

# Installs the Debian packages given that are not installed yet (apt-get update first).
ensure_apt() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "==> 安装系统软件包: ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
}

# Keeps build output outside the clone (shared by every clone on the machine, so a fresh clone
# does not compile the world again) unless the caller chose a place with CARGO_TARGET_DIR.
use_shared_target() {
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/petition-ledger/target}"
    mkdir -p "$CARGO_TARGET_DIR"
}

# Whether ui/dist is missing or older than any file it is built from.
ui_stale() {
    [ -f ui/dist/index.html ] || return 0
    local newer
    newer=$(find ui/src ui/public ui/index.html ui/package.json ui/package-lock.json \
        ui/vite.config.ts ui/tsconfig.json ui/tsconfig.node.json \
        -newer ui/dist/index.html -print -quit 2>/dev/null || true)
    [ -n "$newer" ]
}

# The UI's build tool (Vite 8) needs Node.js 20.19 or later (or 22.12+); Debian 12's own nodejs is
# 18, so it cannot be installed from apt: say so instead of failing inside npm.
ensure_node() {
    local v
    v=$(node --version 2>/dev/null || true)
    if ! printf '%s\n' "$v" | grep -Eq '^v(20\.(19|[2-9][0-9])|22\.(1[2-9]|[2-9][0-9])|2[3-9]|[3-9][0-9])'; then
        echo "需要 Node.js 20.19 及以上（或 22.12 及以上），当前：${v:-未安装}。" >&2
        echo "请从 https://nodejs.org 或 NodeSource 安装后重试（Debian 12 自带的 nodejs 18 太旧）。" >&2
        exit 1
    fi
}

# Installs the UI's npm packages when missing or stale, and builds ui/dist when its sources
# changed: an unchanged ui/dist also spares the desktop program a relink.
ensure_ui() {
    ensure_node
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
        echo "==> 安装界面依赖（npm ci）" >&2
        (cd ui && npm ci --no-audit --no-fund >&2)
    fi
    if ui_stale; then
        echo "==> 构建界面" >&2
        (cd ui && npm run build >&2)
    else
        echo "==> 界面未改动，沿用 ui/dist" >&2
    fi
}

# Installs tauri-driver (the WebDriver bridge of the desktop tests) when missing.
ensure_tauri_driver() {
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v tauri-driver >/dev/null && return 0
    echo "==> 安装 tauri-driver" >&2
    cargo install tauri-driver --version '^2' --locked >&2
}

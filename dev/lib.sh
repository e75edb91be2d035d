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

# Keeps build output outside the clone unless the caller chose a place.
use_shared_target() {
    export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/petition-ledger/target}"
    mkdir -p "$CARGO_TARGET_DIR"
}

# Installs the UI's npm packages when missing or stale, and builds ui/dist.
ensure_ui() {
    if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
        echo "==> 安装界面依赖（npm ci）" >&2
        (cd ui && npm ci --no-audit --no-fund >&2)
    fi
    echo "==> 构建界面" >&2
    (cd ui && npm run build >&2)
}

# Installs tauri-driver (the WebDriver bridge of the desktop tests) when missing.
ensure_tauri_driver() {
    export PATH="$HOME/.cargo/bin:$PATH"
    command -v tauri-driver >/dev/null && return 0
    echo "==> 安装 tauri-driver" >&2
    cargo install tauri-driver --version '^2' --locked >&2
}

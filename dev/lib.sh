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

# Installs PostgreSQL from Debian's packages when no server binaries are present, without the
# default cluster Debian would otherwise create and start (the tests run their own).
ensure_postgres() {
    ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo mkdir -p /etc/postgresql-common
    if ! grep -qs '^create_main_cluster *= *false' /etc/postgresql-common/createcluster.conf; then
        echo "create_main_cluster = false" | $sudo tee -a /etc/postgresql-common/createcluster.conf >/dev/null
    fi
    ensure_apt postgresql
}

# Starts a private PostgreSQL server on a temporary data and socket directory (no TCP port) and
# exports LEDGER_TEST_PG, the connection string the tests read. As root it runs as the postgres
# user (the server refuses root); stop_postgres stops it and removes the directory.
start_postgres() {
    local bin
    bin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
    PG_TMP=$(mktemp -d /tmp/ledger-pg.XXXXXX)
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        chown postgres: "$PG_TMP"
        as=(runuser -u postgres --)
    fi
    echo "==> 启动测试用 PostgreSQL（$PG_TMP）" >&2
    "${as[@]}" "$bin/initdb" -D "$PG_TMP/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
    "${as[@]}" "$bin/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w \
        -o "-k $PG_TMP -c listen_addresses= -c max_connections=400" start >/dev/null
    PG_AS=("${as[@]}")
    PG_BIN=$bin
    export LEDGER_TEST_PG="host=$PG_TMP user=postgres"
}

stop_postgres() {
    [ -n "${PG_TMP:-}" ] || return 0
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
    PG_TMP=""
}

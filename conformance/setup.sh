#!/usr/bin/env bash
# Installs the conformance tools into conformance/.cache/ (gitignored). Idempotent.
#   setup.sh [wstest|py3|browser|all]   (default: all)
# wstest:  a Python 2.7 virtualenv with autobahntestsuite (the Autobahn TestSuite, `wstest`)
# py3:     a Python 3.11 venv with the `websockets` package (the peer test)
# browser: Debian's chromium (apt) and playwright-core (npm, no browser download)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=$HERE/.cache
WHAT=${1:-all}

VIRTUALENV_VERSION=20.15.1          # the last virtualenv that runs on Python 2.7
AUTOBAHN_VERSION=25.10.1
WEBSOCKETS_VERSION=17.4

mkdir -p "$CACHE"

# Finds a pyenv-installed interpreter by version prefix, e.g. `pyenv_python 2.7`.
pyenv_python() {
    local want=$1 root
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    local found
    found=$(ls -d "$root"/versions/"$want"* 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n $found && -x $found/bin/python ]]; then
        echo "$found/bin/python"
        return 0
    fi
    echo "setup.sh: no Python $want under $root/versions" >&2
    return 1
}

setup_wstest() {
    local venv=$CACHE/py2 stamp=$CACHE/py2/.stamp
    local want="virtualenv=$VIRTUALENV_VERSION autobahntestsuite=$AUTOBAHN_VERSION"
    if [[ -x $venv/bin/wstest && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return 0
    fi
    echo "setup.sh: installing wstest (autobahntestsuite $AUTOBAHN_VERSION) into $venv" >&2
    local py2
    py2=$(pyenv_python 2.7)
    if ! "$py2" -m virtualenv --version 2>&1 | grep -q "virtualenv $VIRTUALENV_VERSION "; then
        "$py2" -m pip install --disable-pip-version-check -q "virtualenv==$VIRTUALENV_VERSION"
    fi
    rm -rf "$venv"
    "$py2" -m virtualenv -q --no-download "$venv"
    "$venv/bin/pip" install --disable-pip-version-check --no-python-version-warning -q \
        -c "$HERE/py2-constraints.txt" "autobahntestsuite==$AUTOBAHN_VERSION"
    "$venv/bin/wstest" --help >/dev/null
    echo "$want" >"$stamp"
}

setup_py3() {
    local venv=$CACHE/py3 stamp=$CACHE/py3/.stamp
    local want="websockets=$WEBSOCKETS_VERSION"
    if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$want" ]]; then
        return 0
    fi
    echo "setup.sh: installing websockets $WEBSOCKETS_VERSION into $venv" >&2
    local py3
    py3=$(pyenv_python 3.11)
    rm -rf "$venv"
    "$py3" -m venv "$venv"
    "$venv/bin/pip" install --disable-pip-version-check -q "websockets==$WEBSOCKETS_VERSION"
    "$venv/bin/python" -c 'import websockets.sync.client'
    echo "$want" >"$stamp"
}

setup_browser() {
    if [[ ! -x /usr/bin/chromium ]]; then
        echo "setup.sh: installing Debian's chromium" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        apt-get install -y -q --no-install-recommends chromium
    fi
    local dir=$HERE/browser
    if [[ ! -f $dir/node_modules/playwright-core/package.json ]] \
        || ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.copy"; then
        echo "setup.sh: installing playwright-core (no browser download)" >&2
        (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
        cp "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.copy"
    fi
}

case $WHAT in
    wstest) setup_wstest ;;
    py3) setup_py3 ;;
    browser) setup_browser ;;
    all) setup_wstest; setup_py3; setup_browser ;;
    *) echo "usage: $0 [wstest|py3|browser|all]" >&2; exit 2 ;;
esac

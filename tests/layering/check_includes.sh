#!/usr/bin/env bash
# The dependency direction of design.md, checked on the sources: the test server is an
# independent implementation (no project code), store/ knows nothing of HTTP, and the pure
# protocol code does no I/O through Asio or curl.
set -u
root=${1:?repository root}
cd "$root" || exit 2
fail=0
check() {  # check <folder> <regex of forbidden includes> <why>
  local hits
  hits=$(grep -rnE "^\s*#\s*include\s*[<\"]($2)" "$1" --include='*.h' --include='*.cpp' 2>/dev/null)
  if [ -n "$hits" ]; then
    echo "layering violation in $1 ($3):"
    echo "$hits"
    fail=1
  fi
}
check testserver 'transfer/|protocols/|store/|xfer/' "the test server includes no project code"
check store 'protocols/|transfer/engine|boost/|curl/|nghttp|ngtcp2' "store/ knows leveldb, not HTTP or the loop"
check protocols/http 'boost/|curl/|store/|transfer/engine' "pure parsers do no I/O"
check protocols/download 'boost/|curl/|store/|transfer/engine' "pure parsers do no I/O"
check protocols/upload 'boost/|curl/|store/|transfer/engine' "pure parsers do no I/O"
# The engine sees protocols::Transport; only the composition point picks libcurl.
hits=$(grep -rnE '^\s*#\s*include\s*"protocols/curl/' transfer --include='*.h' --include='*.cpp' |
  grep -v '^transfer/engine/default_transport.cpp:')
if [ -n "$hits" ]; then
  echo "layering violation in transfer (only engine/default_transport.cpp names the curl transport):"
  echo "$hits"
  fail=1
fi
exit $fail

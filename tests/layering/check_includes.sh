#!/usr/bin/env bash
# The dependency direction of docs/architecture.md, checked on the sources of every folder.
#
# The compiler already refuses most wrong-way includes (each target sees only the header roots
# of what it links: cmake/header_roots.cmake). This check adds what a compiler cannot see: the
# rule for a folder that shares a target with others (protocols/http must not use the redirect
# loop although both are xfer_protocols), the one composition point that may name libcurl,
# relative includes that would walk around the roots, third-party libraries a folder must not
# use, and a folder nobody has placed yet: a directory holding sources that is not in the
# table below fails the check until someone decides where it sits.
set -u
root=${1:?repository root}
cd "$root" || exit 2
fail=0

# Public headers, by the target that owns them.
public_of() {
  local names
  names=$(cd "$1" && ls -- *.h 2>/dev/null | sed 's/\.h$//' | paste -sd '|')
  echo "<xfer/($names)\\.h>"
}
BASE_PUBLIC=$(public_of base/include/xfer)
ENGINE_PUBLIC=$(public_of transfer/include/xfer)
PUBLIC="($BASE_PUBLIC|$ENGINE_PUBLIC)"
BASE="(\"base/|$BASE_PUBLIC)"
PURE_PROTOCOLS='"protocols/(http|download|upload)/|"protocols/transport\.h"'
CLIENT="$BASE|\"store/|\"protocols/|\"transfer/|$ENGINE_PUBLIC"

# allowed <folder>: a regex every project or library include of the folder's files must match.
allowed() {
  case $1 in
    # Public headers are installed alone (cmake/install.cmake): they include public ones only.
    base/include/xfer) echo "$BASE_PUBLIC" ;;
    base) echo "$BASE" ;;
    store) echo "$BASE|\"store/|<leveldb/|<openssl/" ;;
    protocols) echo "$BASE|\"protocols/transport\\.h\"" ;;
    protocols/http) echo "$BASE|\"protocols/http/|<openssl/" ;;
    protocols/download) echo "$BASE|$PURE_PROTOCOLS" ;;
    protocols/upload) echo "$BASE|$PURE_PROTOCOLS" ;;
    protocols/redirect) echo "$BASE|$PURE_PROTOCOLS|\"protocols/redirect/|<boost/" ;;
    protocols/curl) echo "$BASE|$PURE_PROTOCOLS|\"protocols/curl/|<boost/|<curl/" ;;
    protocols/router) echo "$BASE|\"protocols/transport\\.h\"|\"protocols/(router|http)/|<boost/" ;;
    protocols/h3) echo "$BASE|$PURE_PROTOCOLS|\"protocols/h3/|<boost/|<ngtcp2/|<nghttp3/|<gnutls/" ;;
    transfer/include/xfer) echo "$PUBLIC" ;;
    # transfer/version.cpp: the one source of the shared library itself (cmake/install.cmake).
    transfer) echo "$PUBLIC" ;;
    transfer/files) echo "$BASE|$PURE_PROTOCOLS|\"transfer/files/|$ENGINE_PUBLIC" ;;
    transfer/engine) echo "$CLIENT|<boost/|<openssl/" ;;
    # cli/ is a shell over the public API: no engine internals, no journal, no transport.
    cli) echo "$PUBLIC|\"cli/" ;;
    # Built against an installed tree too (tests/install): the public API alone.
    examples) echo "$PUBLIC" ;;
    bench/*) echo "$CLIENT|\"bench/|<leveldb/|<boost/|<curl/|<openssl/" ;;
    # The test server is an independent implementation: nothing of the client.
    testserver | testserver/*)
      echo "\"testserver/|<boost/|<openssl/|<nghttp2/|<ngtcp2/|<nghttp3/|<gnutls/|<leveldb/" ;;
    tests) echo '"tests/' ;;
    # The compile probes include one header named by a macro (see CMakeLists.txt there).
    tests/layering) echo '"tests/layering/' ;;
    tests/support) echo "\"tests/support/|\"base/clock\\.h\"|<leveldb/|<openssl/|<boost/" ;;
    tests/testserver) echo "\"tests/(support|testserver)/|\"testserver/|<leveldb/|<openssl/|<boost/|<nghttp2/" ;;
    tests/store) echo "$BASE|\"tests/(support|store)/|\"store/|<leveldb/|<openssl/" ;;
    tests/protocols) echo "$BASE|\"tests/(support|protocols)/|\"protocols/(http|download|upload|redirect|router)/|\"protocols/transport\\.h\"|<boost/|<openssl/" ;;
    tests/curl) echo "$BASE|\"tests/(support|curl)/|\"protocols/|<boost/|<curl/|<openssl/" ;;
    # The CLI's own pieces, through their headers and the public API.
    tests/cli) echo "$PUBLIC|\"tests/(support|cli)/|\"cli/" ;;
    tests/transfer | tests/integration) echo "$CLIENT|\"tests/|<boost/|<leveldb/|<openssl/|<curl/" ;;
    # Fuzz targets named ts_* fuzz the test server's parsers, the others the client's; the
    # file name decides (see tests/fuzz/CMakeLists.txt).
    tests/fuzz) echo "fuzz" ;;
    *) return 1 ;;
  esac
}

# The includes checked: quoted project paths, the public <xfer/...> headers, project folders
# written with angle brackets (refused: they would dodge the rules), and the libraries whose use
# marks a layer (the loop, the transports, the journal's engine, crypto).
PROJECT_FOLDERS='base|store|protocols|transfer|cli|testserver|tests|bench|examples'
includes_of() {
  grep -nE "^\s*#\s*include\s*(\"|<(xfer|$PROJECT_FOLDERS|boost|curl|leveldb|openssl|nghttp2|ngtcp2|nghttp3|gnutls)/)" "$1" |
    sed -E 's/^([0-9]+):\s*#\s*include\s*/\1 /'
}

check_file() {  # check_file <file> <allowed regex>
  local file=$1 rule=$2 line inc
  while read -r line inc; do
    [ -n "$inc" ] || continue
    if [[ $inc =~ ^[\"\<](\.\.?/|.*/\.\.?/) ]]; then
      # "../x.h", "base/../transfer/x.h": a dot segment walks around the header roots.
      echo "layering: $file:$line: include with a dot segment $inc (use the path from the source root)"
      fail=1
    elif [[ $inc =~ ^\<($PROJECT_FOLDERS)/ ]]; then
      echo "layering: $file:$line: $inc names a project folder in angle brackets (quote it)"
      fail=1
    elif ! [[ $inc =~ ^($rule) ]]; then
      echo "layering: $file:$line: $inc is not allowed in $(dirname "$file")"
      fail=1
    fi
  done < <(includes_of "$file")
}

mapfile -t folders < <(find . \( -path ./.git -o -path './build*' -o -name node_modules -o -name corpus \) -prune -o \
  -type f \( -name '*.h' -o -name '*.cpp' \) -printf '%h\n' | sed 's#^\./##' | sort -u)
for folder in "${folders[@]}"; do
  if ! rule=$(allowed "$folder"); then
    echo "layering: $folder/ holds sources but has no rule in tests/layering/check_includes.sh;" \
      "place it in docs/architecture.md and give it one"
    fail=1
    continue
  fi
  for file in "$folder"/*.h "$folder"/*.cpp; do
    [ -f "$file" ] || continue
    file_rule=$rule
    if [ "$rule" = fuzz ]; then
      case $(basename "$file") in
        ts_*) file_rule='"testserver/|"tests/(fuzz|support)/' ;;
        *) file_rule="$CLIENT|\"tests/(fuzz|support|store)/" ;;
      esac
    fi
    check_file "$file" "$file_rule"
  done
done

# Public headers are installed on their own: besides <xfer/...> only the standard library
# (no <fmt/...>, <boost/...>: an application does not have them on its include path).
hits=$(grep -nE '^\s*#\s*include\s*<[A-Za-z0-9_.+-]+/' base/include/xfer/*.h transfer/include/xfer/*.h |
  grep -v '<xfer/')
if [ -n "$hits" ]; then
  echo "layering: public headers include only <xfer/...> and the standard library:"
  echo "$hits"
  fail=1
fi

# The journal's interface and records name no storage engine (a second backend implements them).
hits=$(grep -nE '^\s*#\s*include\s*<leveldb/|leveldb::' store/journal.h store/records.h)
if [ -n "$hits" ]; then
  echo "layering: store/journal.h and store/records.h name no leveldb type:"
  echo "$hits"
  fail=1
fi

# The engine sees protocols::Transport; only the composition point picks libcurl and HTTP/3.
hits=$(grep -rnE '^\s*#\s*include\s*"protocols/(curl|h3)/' transfer --include='*.h' --include='*.cpp' |
  grep -v '^transfer/engine/default_transport.cpp:')
if [ -n "$hits" ]; then
  echo "layering: only transfer/engine/default_transport.cpp names the curl and HTTP/3 transports:"
  echo "$hits"
  fail=1
fi
[ $fail -eq 0 ] && echo "layering: ${#folders[@]} folders, every include in its direction"
exit $fail

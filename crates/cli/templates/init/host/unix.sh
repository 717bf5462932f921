#!/bin/sh
# {{bin}}: a host binary of the {{title_comment}} extension, run by the UI with
# ddClient.extension.host.cli.exec("{{bin}}", [...]). Replace it with your tool.
set -eu
echo "hello from {{bin}} on $(uname -s)"
for arg in "$@"; do
  printf 'argument: %s\n' "$arg"
done

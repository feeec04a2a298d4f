#!/bin/sh
# The sandbox's stand-in for the nginx image's entrypoint: say what it would configure, then run the command.
set -e
if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    echo "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration" >&2
    echo "$0: Configuration complete; ready for start up" >&2
fi
exec "$@"

#!/bin/sh
exec /usr/local/bin/node /srv/surreal.mjs "$@"

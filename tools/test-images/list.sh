#!/usr/bin/env bash
# Print the names of the local test images (one per line).
exec bash "$(dirname "${BASH_SOURCE[0]}")/build.sh" --list

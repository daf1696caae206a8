# Shared by scripts/setup.sh and scripts/setup_mpnet.sh (sourced, not run): messages and sha checks.
# The sourcing script sets SETUP_TAG (the message prefix) and SETUP_AGAIN (the command to rerun).
say() { printf '%s: %s\n' "$SETUP_TAG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SETUP_TAG" "$*" >&2; exit 1; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
check_sha() { # file expected [what to delete to repair; default the file]
  local repair="${3:-$1}" got
  [ -f "$1" ] || die "$1 is missing; delete $repair and run $SETUP_AGAIN again"
  got="$(sha_of "$1")"
  [ "$got" = "$2" ] || die "$1 is corrupt or changed (sha256 $got, expected $2); delete $repair and run $SETUP_AGAIN again"
}

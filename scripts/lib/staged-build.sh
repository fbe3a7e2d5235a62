# Sourced by scripts/build.sh and scripts/build-web.sh: a build goes into a
# temporary folder that is swapped in whole, so a running tgpulse never reads a
# half-written tree, and concurrent builds of the same output wait for each
# other. Expects $root (the repository root).

# Waits until no other build of $1 (`build`, `build-web`) runs; the lock is held on fd 9 until exit.
take_build_lock() {
  mkdir -p "$root/node_modules/.tgpulse"
  exec 9>"$root/node_modules/.tgpulse/$1.lock"
  flock 9
}

# Replaces the folder $2 by the finished build $1.
swap_in() {
  local next="$1" dest="$2"
  rm -rf "$dest.old"
  if [ -d "$dest" ]; then mv "$dest" "$dest.old"; fi
  mv "$next" "$dest"
  rm -rf "$dest.old"
}

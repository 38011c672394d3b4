#!/bin/sh
# Write the compose secrets (deploy/secrets/, git-ignored), each a fresh random value;
# an existing file is kept, so running it again changes nothing.
set -eu
dir="$(dirname "$0")/secrets"
mkdir -p "$dir" && chmod 700 "$dir"
random() { python3 -c "import secrets; print(secrets.token_urlsafe(32), end='')"; }
for name in postgres_password temporal_db_password casework_db_password auth_secret; do
  [ -s "$dir/$name" ] || { random > "$dir/$name"; echo "wrote $dir/$name"; }
done
[ -s "$dir/database_url" ] || {
  printf 'postgresql+psycopg://casework:%s@postgresql:5432/casework' \
    "$(cat "$dir/casework_db_password")" > "$dir/database_url"
  echo "wrote $dir/database_url"
}
# 0644 files in a 0700 directory: no other host user can reach them, while the
# containers (which run as their own unprivileged users) can read the bind-mounted file.
chmod 644 "$dir"/*

#!/bin/sh
# Builds the bare repository $2 from the example app copied to $1:
#   main: v1 (tag), then v2 (tag);
#   conflict: v2 plus a pin pip cannot satisfy next to streamlit;
#   broken: v2 raising at import;
#   unhealthy: v2 whose own .streamlit/config.toml stops the server from
#     starting (passes the bare-mode smoke run, fails the health check).
set -eu
work=$1
bare=$2
cd "$work"
git init -q -b main .
git config user.email molecule@example.invalid
git config user.name Molecule
git add -A
git commit -qm "Hello Streamlit v1"
git tag -a v1 -m v1
sed -i 's/^APP_VERSION = "v1"/APP_VERSION = "v2"/' streamlit_app.py
git commit -qam "Release v2"
git tag -a v2 -m v2

git checkout -qb conflict
printf 'packaging==16.8\n' >>requirements.txt
git commit -qam "Pin packaging below what streamlit needs"

git checkout -q main
git checkout -qb broken
sed -i 's/^APP_VERSION = "v2"/raise RuntimeError("hello_streamlit: the data source is not configured")/' streamlit_app.py
git commit -qam "Break the app at import"

git checkout -q main
git checkout -qb unhealthy
mkdir -p .streamlit
printf '[server]\nsslCertFile = "/nonexistent/cert.pem"\nsslKeyFile = "/nonexistent/key.pem"\n' >.streamlit/config.toml
git add .streamlit
git commit -qm "Point the server at TLS files that do not exist"

git checkout -q main
git clone -q --bare "$work" "$bare"

#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian 12, only when something is missing.
# Safe to run again: it does nothing when everything is present.
set -euo pipefail

packages=(
  # build
  cmake ninja-build g++ pkg-config ccache clang-format git
  libboost1.81-dev libboost-filesystem1.81-dev libboost-program-options1.81-dev
  libboost-json1.81-dev libboost-system1.81-dev
  libpqxx-dev libpq-dev libspdlog-dev libtomlplusplus-dev doctest-dev libssl-dev
  libhowardhinnant-date-dev libsystemd-dev
  libyaml-cpp-dev  # Ansible YAML inventories (engine/remote/inventory_yaml.cpp)
  libre2-dev       # PromQL regex matchers, Go's syntax (engine/config/promql_regex.cpp)
  # fuzzing and the sanitizer build (scripts/fuzz.sh, scripts/sanitize.sh)
  clang libclang-rt-14-dev
  # tests and the demo
  postgresql-15 postgresql-client-15 python3 curl procps
  python3-django gunicorn python3-psycopg2 supervisor
  mawk openssl
  # the shop's front (examples/ecommerce/shop.sh): Nginx terminating TLS, the SMTP sink for its mail
  nginx python3-aiosmtpd
  # HTML reports rendered headless (tests/integration/report_html.sh)
  chromium
  # packaging tests: the .deb, the units, the man page, completion (tests/integration/deb_package.sh,
  # systemd_units.sh, man_page.sh, completion.sh)
  dpkg-dev systemd man-db groff-base zsh
  # the monitor's HTTP side against the real thing (tests/integration/monitor_alertmanager.sh):
  # promtool comes with prometheus
  prometheus prometheus-alertmanager
  # steps on many hosts (tests/integration/remote_*.sh start their own sshd on 127.0.0.1;
  # the system sshd is never started by the tests)
  openssh-server openssh-client
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
SUDO=()
if [ "$(id -u)" -ne 0 ]; then SUDO=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

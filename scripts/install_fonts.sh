#!/usr/bin/env bash
# Font families for synthetic text lines (serif, sans, mono, condensed, bold, italic), and the
# word list. Needs root (apt-get); without it the renderer uses Pillow's built-in font.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends \
  fonts-liberation2 fonts-dejavu-core fonts-dejavu-extra fonts-freefont-ttf fonts-urw-base35 \
  fonts-roboto fonts-open-sans fonts-lato fonts-crosextra-carlito fonts-crosextra-caladea \
  fonts-croscore fonts-inconsolata fonts-linuxlibertine fonts-ebgaramond fonts-cantarell \
  fonts-hack fonts-firacode fonts-noto-core fonts-noto-mono fonts-texgyre fonts-adf-accanthis \
  > /dev/null

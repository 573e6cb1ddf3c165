#!/bin/sh
# Install Batik Studio for the current user: menu entry, icon, and the `batikstudio` command.
# Run it from the unpacked application folder:  ./install.sh      (undo: ./install.sh --uninstall)
# The application stays where it is: move the folder first if you want it elsewhere.
set -eu

APP_DIR=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
BIN=$HOME/.local/bin
ID=io.github.batikstudio.BatikStudio

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DATA/applications/batikstudio.desktop" "$DATA/metainfo/$ID.metainfo.xml" "$BIN/batikstudio"
    rm -f "$DATA/icons/hicolor/scalable/apps/$ID.svg"
    for size in 16 24 32 48 64 128 256 512; do
        rm -f "$DATA/icons/hicolor/${size}x${size}/apps/$ID.png"
    done
    echo "Batik Studio removed from the menu (the folder $APP_DIR was left in place)."
    exit 0
fi

mkdir -p "$DATA/applications" "$DATA/metainfo" "$DATA/icons/hicolor/scalable/apps" "$BIN"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$APP_DIR/share/icons/batikstudio-$size.png" "$DATA/icons/hicolor/${size}x${size}/apps/$ID.png"
done
cp "$APP_DIR/share/icons/batikstudio.svg" "$DATA/icons/hicolor/scalable/apps/$ID.svg"
cp "$APP_DIR/share/$ID.metainfo.xml" "$DATA/metainfo/"
# the menu entry starts this folder's executable, whatever PATH the desktop session has
sed -e "s|^Exec=batikstudio|Exec=\"$APP_DIR/batikstudio\"|" -e "s|^TryExec=batikstudio|TryExec=$APP_DIR/batikstudio|" \
    "$APP_DIR/share/batikstudio.desktop" > "$DATA/applications/batikstudio.desktop"
ln -sf "$APP_DIR/batikstudio" "$BIN/batikstudio"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "Batik Studio is in your applications menu; the command line is $BIN/batikstudio"

#!/bin/sh
# Install Lifeline for the current user, under ~/.local, without root.
#
#   ./install.sh              copy the app to ~/.local/lib/lifeline, link ~/.local/bin/lifeline,
#                             add the applications-menu entry and the icons
#   ./install.sh --uninstall  remove all of that again (your config, history, saved tickets,
#                             log and the secrets in your keyring stay; it says how to
#                             delete each)
#
# Run it from the unpacked archive (or, to uninstall, from ~/.local/lib/lifeline).
# Honours XDG_DATA_HOME and XDG_CONFIG_HOME. The app id and the command name are read
# from the .desktop file beside this script, so they are written in one place only.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd -P)

desktop_src=
for f in "$here"/*.desktop; do
    [ -f "$f" ] && desktop_src=$f && break
done
if [ -z "$desktop_src" ]; then
    echo "install.sh: no .desktop file beside $0; run it from the unpacked archive" >&2
    exit 1
fi
app_id=$(basename "$desktop_src" .desktop)
name=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop_src" | head -n 1)
name=$(basename "$name")

data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
bin_dir=$HOME/.local/bin
lib_dir=$HOME/.local/lib/$name
apps_dir=$data_home/applications
icons_dir=$data_home/icons/hicolor
marker=.installed-by-install.sh

refresh_caches() {
    # Optional helpers; menus pick up the changes without them, only later.
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps_dir" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -f "$icons_dir/index.theme" ]; then
        gtk-update-icon-cache -q -t "$icons_dir" 2>/dev/null || true
    fi
}

uninstall() {
    if [ -L "$bin_dir/$name" ]; then
        case $(readlink "$bin_dir/$name") in
            "$lib_dir"/*) rm -f "$bin_dir/$name" ;;
            *) echo "left $bin_dir/$name alone: it points elsewhere" >&2 ;;
        esac
    fi
    rm -f "$apps_dir/$app_id.desktop"
    rm -f "$icons_dir"/*/apps/"$app_id".png "$icons_dir"/scalable/apps/"$app_id".svg
    # "Start at login" wrote an autostart entry pointing at the binary removed here.
    for entry in "$config_home"/autostart/*.desktop; do
        if [ -f "$entry" ] && grep -qF "$lib_dir/" "$entry"; then
            rm -f "$entry"
        fi
    done
    if [ -f "$lib_dir/$marker" ]; then
        rm -rf "$lib_dir"
    elif [ -e "$lib_dir" ]; then
        echo "left $lib_dir alone: it was not made by install.sh" >&2
    fi
    # The icon folders install.sh made, when nothing else is in them any more.
    for dir in "$icons_dir"/*/apps; do
        { [ -d "$dir" ] && rmdir "$dir" 2>/dev/null && rmdir "$(dirname "$dir")" 2>/dev/null; } \
            || true
    done
    { rmdir "$icons_dir" 2>/dev/null && rmdir "$(dirname "$icons_dir")" 2>/dev/null; } || true
    rmdir "$lib_dir/.." 2>/dev/null || true
    refresh_caches
    state_home=${XDG_STATE_HOME:-$HOME/.local/state}
    echo "Lifeline uninstalled. Kept, as yours to keep or delete:"
    echo "  settings:               $config_home/$name (rm -r it to delete)"
    echo "  history, saved tickets: $data_home/$name (rm -r it to delete)"
    if [ -f "$data_home/$name/outbox.sqlite3" ]; then
        echo "    the outbox there may hold tickets that were never sent: reinstall and run"
        echo "    '$name outbox list' first if that matters"
    fi
    echo "  log:                    $state_home/$name (rm -r it to delete)"
    echo "  secrets:                your keyring, service \"$name\""
    echo "                          (GNOME: secret-tool clear service $name; KDE: KWalletManager)"
}

install() {
    if [ ! -x "$here/$name" ] || [ ! -d "$here/_internal" ]; then
        echo "install.sh: $here/$name is not the unpacked app; unpack the whole archive first" >&2
        exit 1
    fi
    if [ "$here" = "$lib_dir" ]; then
        echo "install.sh: already installed here; run it from a newly unpacked archive" >&2
        exit 1
    fi
    if [ -e "$lib_dir" ] && [ ! -f "$lib_dir/$marker" ]; then
        echo "install.sh: $lib_dir exists and was not made by install.sh; move it away first" >&2
        exit 1
    fi
    mkdir -p "$bin_dir" "$apps_dir" "$(dirname "$lib_dir")"

    # Copy next to the target, then swap, so an interrupted copy never leaves half an app.
    staging=$lib_dir.new.$$
    trap 'rm -rf "$staging"' EXIT INT TERM
    mkdir -p "$staging"
    cp -R "$here/$name" "$here/_internal" "$here/install.sh" "$desktop_src" "$staging/"
    [ -d "$here/icons" ] && cp -R "$here/icons" "$staging/"
    : > "$staging/$marker"
    rm -rf "$lib_dir"
    mv "$staging" "$lib_dir"
    trap - EXIT INT TERM

    ln -sfn "$lib_dir/$name" "$bin_dir/$name"

    # The menu entry runs the installed binary by its full path: desktop sessions often
    # start without ~/.local/bin on PATH. Exec values are quoted per the Desktop Entry spec.
    exec_path=$(printf '%s' "$lib_dir/$name" | sed -e 's/[\\"`$]/\\&/g' -e 's/%/%%/g')
    tmp=$apps_dir/.$app_id.desktop.$$
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            "Exec=$name"|"Exec=$name "*)
                printf 'Exec="%s"%s\n' "$exec_path" "${line#"Exec=$name"}"
                printf 'TryExec=%s\n' "$lib_dir/$name" ;;
            TryExec=*) ;;
            *) printf '%s\n' "$line" ;;
        esac
    done < "$desktop_src" > "$tmp"
    chmod 644 "$tmp"
    mv "$tmp" "$apps_dir/$app_id.desktop"

    if [ -d "$here/icons/hicolor" ]; then
        for png in "$here"/icons/hicolor/*/apps/"$app_id".png; do
            size=$(basename "$(dirname "$(dirname "$png")")")
            mkdir -p "$icons_dir/$size/apps"
            cp "$png" "$icons_dir/$size/apps/"
        done
    fi
    if [ -f "$here/icons/$app_id.svg" ]; then
        mkdir -p "$icons_dir/scalable/apps"
        cp "$here/icons/$app_id.svg" "$icons_dir/scalable/apps/"
    fi
    refresh_caches

    echo "Lifeline installed:"
    echo "  app:   $lib_dir"
    echo "  link:  $bin_dir/$name"
    echo "  menu:  $apps_dir/$app_id.desktop"
    echo "  icons: $icons_dir"
    case ":${PATH:-}:" in
        *":$bin_dir:"*)
            echo "Start it from your applications menu, or run: $name" ;;
        *)
            # Plain "lifeline" would not run in this shell: say what does.
            echo "Start it from your applications menu, or run: $bin_dir/$name"
            echo "($bin_dir is not on your PATH; add it, e.g. in ~/.profile, to type just $name)" ;;
    esac
}

case "${1:-}" in
    "") install ;;
    --uninstall) uninstall ;;
    -h|--help) sed -n '2,9s/^# \{0,1\}//p' "$0" ;;
    *) echo "usage: $0 [--uninstall]" >&2; exit 2 ;;
esac

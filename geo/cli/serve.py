"""``tomoni serve`` and ``tomoni user-add``: the app, alone or shared with logins.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from geo.cli.args import EXIT_OK, say
from layers.errors import LayerError, ParameterError

__all__ = ["cmd_serve", "cmd_user_add"]

log = logging.getLogger("tomoni")


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the app: on this machine only unless an address is given, and then only with
    a login and a data folder."""
    import ipaddress
    import os
    import subprocess

    from layers.users import read_users

    loopback = args.address in ("localhost", "::1")
    if not loopback and (args.address.replace(".", "").isdigit() or ":" in args.address):
        try:  # 127.1 or 0 would be read by the system as some address; say which to write
            loopback = ipaddress.ip_address(args.address).is_loopback
        except ValueError:
            raise ParameterError(f"待ち受けるアドレスが読めません: {args.address[:40]}", parameter="address",
                             fix="4 つの数で書いてください（この機械だけ: 127.0.0.1、すべて: 0.0.0.0）。"
                             ) from None
    if not loopback and not (args.users and args.data_root):
        raise LayerError("ほかの機械に公開するには、ログインとデータフォルダの指定が必要です。",
                         column="address",
                         fix="--users users.toml（tomoni user-add で作る）と --data-root フォルダ"
                         " を付けてください。")
    env = dict(os.environ)
    if args.users:
        read_users(args.users)  # a clear error now, not at the first login
        env["TOMONI_USERS_FILE"] = str(Path(args.users).resolve())
    if args.data_root:
        root = Path(args.data_root).resolve()
        if not root.is_dir():
            raise LayerError("データフォルダがありません。", file=args.data_root, column="data_root",
                             fix="既にあるフォルダを指定してください。")
        env["TOMONI_DATA_ROOT"] = str(root)
    if args.region:
        from layers.region import read_config

        env["TOMONI_START_REGION"] = str(read_config(args.region).path.resolve())  # checked now
    app = Path(__file__).resolve().parents[2] / "streamlit_app.py"
    # ui.launch: Streamlit, with the start region loaded while the server comes up
    cmd = [sys.executable, "-m", "ui.launch", "run", str(app), f"--server.address={args.address}",
           f"--server.port={args.port}", "--server.headless=true", "--browser.gatherUsageStats=false"]
    log.info("starting the app on http://%s:%s", args.address, args.port)
    say(f"ともにマップ: http://{args.address}:{args.port}（Ctrl+C で終了）", err=True)
    return subprocess.call(cmd, env=env, cwd=app.parent)


def cmd_user_add(args: argparse.Namespace) -> int:
    import getpass

    from layers.users import add_user

    password = getpass.getpass("パスワード: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    add_user(args.users, args.name, password)
    say(json.dumps({"users": str(args.users), "added": args.name}, ensure_ascii=False))
    return EXIT_OK

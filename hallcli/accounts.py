"""`hall token` and `hall user`: credentials for devices, staff and administrators."""

from __future__ import annotations

import argparse
import getpass
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("token", help="create a device or staff token; prints it as the last line")
    p.add_argument("--db", required=True)
    p.add_argument(
        "--role",
        required=True,
        choices=["admin", "staff", "kiosk", "display", "evaluator", "booking"],
    )
    p.add_argument("--window", type=int, help="bind a staff or evaluator token to a window")
    p.add_argument("--name", help="device or person name (default: ROLE-WINDOW)")
    p.add_argument("--config", help="hall TOML for an empty database (default: demo hall)")
    p.set_defaults(func=create_token)

    u = sub.add_parser("user", help="manage staff and administrator accounts")
    usub = u.add_subparsers(dest="user_command", metavar="ACTION")
    add = usub.add_parser("add", help="create an account with a password")
    add.add_argument("--db", required=True)
    add.add_argument("--username", required=True)
    add.add_argument("--name", required=True)
    add.add_argument("--role", required=True, choices=["admin", "staff"])
    add.add_argument("--window", type=int)
    add.add_argument("--staff-no", default="")
    add.add_argument("--password", help="(default: asked on the terminal)")
    add.set_defaults(func=add_user)


def create_token(args: argparse.Namespace) -> int:
    from queue_server.admin.accounts import create_token as make
    from queue_server.runtime.hall import Hall

    hall = Hall(args.db, args.config)
    try:
        if args.window is not None and not any(w.no == args.window for w in hall.config.windows):
            print(f"hall token: no window {args.window} in this hall", file=sys.stderr)
            return 2
        name = args.name or (f"{args.role}-{args.window}" if args.window else args.role)

        def op(tx):  # type: ignore[no-untyped-def]
            token = make(tx, args.role, name, args.window)
            hall.audit(tx, "cli", "token.create", name, role=args.role, window=args.window)
            return token

        token = hall.run_sync(op)
    finally:
        hall.close()
    print(f"{args.role} token for {name}" + (f" (window {args.window})" if args.window else ""))
    print(token)
    return 0


def add_user(args: argparse.Namespace) -> int:
    from queue_server.admin.accounts import create_account
    from queue_server.base.errors import HallError
    from queue_server.runtime.hall import Hall

    password = args.password or getpass.getpass("password: ")
    hall = Hall(args.db)
    try:

        def op(tx):  # type: ignore[no-untyped-def]
            create_account(
                tx, args.username, password, args.role, args.name, args.window, args.staff_no
            )
            hall.audit(tx, "cli", "account.create", args.username, role=args.role)

        hall.run_sync(op)
    except HallError as err:
        print(f"hall user add: {err.message}", file=sys.stderr)
        return 2
    finally:
        hall.close()
    print(f"account {args.username} ({args.role}) created")
    return 0

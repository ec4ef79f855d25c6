"""``stancebench models``: the known pose models, where each is and whether its bytes are the pinned ones
(``models list``), and installing them from a file, a folder or an npm package tarball (``models install``)."""
from __future__ import annotations

import argparse

HELP = "List the known pose models and install them (sha256-verified) into the models folder."
DESCRIPTION = HELP + (
    " 'models list' (the default) shows every known model: name, family, precision, bytes, pinned sha256, where "
    "it is and whether it is installed (a file of the right name with other bytes is 'corrupt', never used). "
    "'models install SOURCE' installs from a .tflite file, a folder or an npm package .tgz; without SOURCE it "
    "runs `npm pack` for the pinned @mediapipe/pose version when npm is on PATH (the only download stancebench "
    "ever makes, and only when asked), else it says what to run. The models folder is $STANCEBENCH_MODELS, else "
    "$XDG_DATA_HOME/stancebench/models, else ~/.local/share/stancebench/models (docs/models.md). Exit codes: 0 ok, "
    "2 bad input, a refused file or npm unavailable.")


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("models", help=HELP, description=DESCRIPTION)
    p.add_argument("--json", action="store_true", help="print JSON")
    # the subcommands' --json defaults to SUPPRESS so that ``models --json list`` keeps the value given before it
    sub = p.add_subparsers(dest="models_command", metavar="SUBCOMMAND")
    lp = sub.add_parser("list", help="every known model and its state (the default)", description=DESCRIPTION)
    lp.add_argument("--json", action="store_true", help="print JSON", default=argparse.SUPPRESS)
    lp.set_defaults(func=run_list)
    ip = sub.add_parser("install", help="install models from SOURCE, or with npm when SOURCE is omitted",
                        description=DESCRIPTION)
    ip.add_argument("source", metavar="SOURCE", nargs="?", default=None,
                    help="a model .tflite, a folder of models or an npm package .tgz (omit: run `npm pack`)")
    ip.add_argument("--timeout", type=float, default=None, metavar="S",
                    help="seconds npm pack may take before it is stopped (default 600)")
    ip.add_argument("--json", action="store_true", help="print JSON", default=argparse.SUPPRESS)
    ip.set_defaults(func=run_install)
    p.set_defaults(func=run_list)


def run_list(args) -> int:
    from candidates.models import list_models, models_dir
    rows = [s.to_dict() for s in list_models()]
    if args.json:
        import json
        print(json.dumps({"models_dir": str(models_dir()), "models": rows}, indent=1))
        return 0
    print(f"models folder: {models_dir()}")
    for r in rows:
        where = {"installed": r["location"], "not installed": "",
                 "corrupt": f"{r['location']} (its sha256 is {r['actual_sha256']})"}[r["state"]]
        print(f"{r['name']:16} {r['family']}  {r['precision']:5} {r['bytes']:>11,} bytes  {r['state']:13} {where}")
        print(f"{'':16} sha256 {r['sha256']}  {r['licence']}")
    missing = [r["name"] for r in rows if not r["installed"]]
    if missing:
        from candidates.models import install_command
        print(f"not installed: {', '.join(missing)}; {install_command()}")
    return 0


def run_install(args) -> int:
    from candidates.model_install import install_from, install_from_npm
    from candidates.models import NPM_TIMEOUT_S, models_dir
    if args.timeout is not None and not args.timeout > 0:
        from ground_truth.kernel import InputError
        raise InputError(f"--timeout is {args.timeout}", field="--timeout", expected="a positive number of seconds")
    if args.source is None:
        results = install_from_npm(timeout_s=args.timeout or NPM_TIMEOUT_S)
    else:
        results = install_from(args.source)
    if args.json:
        import json
        print(json.dumps({"models_dir": str(models_dir()), "results": [r.to_dict() for r in results]}, indent=1))
        return 0
    for r in results:
        print(f"{r.action:17} {r.name:16} {r.path} (sha256 {r.sha256} verified)")
    return 0

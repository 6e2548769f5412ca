"""CLI: `python -m deploy {deploy,plan,destroy} [--stack ...]`, used by `make deploy`,
`make plan` and `make destroy`. Every failure ends in one line and a non-zero exit."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from deploy import report
from deploy.commands import DeployOptions, run
from deploy.destroy import destroy
from deploy.errors import DeployError
from deploy.package import PackageOptions
from deploy.preflight import preflight
from deploy.stack import Timing

ROOT = Path(__file__).resolve().parents[1]


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected Key=Value, got {text!r}")
    return key, value


def parser() -> argparse.ArgumentParser:
    """All options; defaults come from the environment like the AWS CLI's."""
    p = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    p.add_argument("command", choices=["deploy", "plan", "destroy"])
    p.add_argument("--stack", default=os.environ.get("STACK") or "chat", help="stack name")
    p.add_argument(
        "--region",
        default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
        help="AWS region (default: $AWS_REGION, $AWS_DEFAULT_REGION, the profile's)",
    )
    p.add_argument("--profile", default=os.environ.get("AWS_PROFILE"), help="AWS profile")
    p.add_argument("--root", type=Path, default=ROOT, help="project root (Build paths)")
    p.add_argument("--template", type=Path, help="default: <root>/templates/chat.json")
    p.add_argument("--web-dir", type=Path, help="default: <root>/web")
    p.add_argument("--build-dir", type=Path, help="default: <root>/build")
    tp = p.add_argument_group("template parameters (unset: keep the stack's current value)")
    tp.add_argument("--topic-root", help="TopicRoot")
    tp.add_argument("--retention-days", type=int, help="MessageRetentionDays")
    tp.add_argument("--stream", action=argparse.BooleanOptionalAction, help="EnableStream")
    tp.add_argument("--jwks-url", help="JwksUrl")
    tp.add_argument("--jwt-issuer", help="JwtIssuer")
    tp.add_argument("--jwt-audience", help="JwtAudience")
    tp.add_argument(
        "--parameter", action="append", type=_key_value, default=[], metavar="KEY=VALUE"
    )
    pk = p.add_argument_group("packaging")
    pk.add_argument("--requirements", type=Path, help="use this requirements file instead")
    pk.add_argument(
        "--find-links", type=Path, action="append", default=[], help="wheel dir; no PyPI"
    )
    pk.add_argument("--no-deps-install", action="store_true", help="package code only")
    st = p.add_argument_group("stack")
    st.add_argument(
        "--replace-failed",
        action="store_true",
        help="delete a stack left in ROLLBACK_COMPLETE (or similar) and create it again",
    )
    st.add_argument(
        "--allow-missing-outputs",
        action="store_true",
        help="warn instead of failing when site outputs are missing (emulated AWS)",
    )
    st.add_argument("--poll-interval", type=float, default=5.0, help=argparse.SUPPRESS)
    st.add_argument("--timeout", type=float, default=3600.0, help="seconds to wait for a stack")
    return p


def template_parameters(args: argparse.Namespace) -> dict[str, str]:
    """The options that map to template parameters, only where given."""
    given: dict[str, str] = {}
    named = {
        "TopicRoot": args.topic_root,
        "MessageRetentionDays": args.retention_days,
        "JwksUrl": args.jwks_url,
        "JwtIssuer": args.jwt_issuer,
        "JwtAudience": args.jwt_audience,
    }
    for key, value in named.items():
        if value is not None:
            given[key] = str(value)
    if args.stream is not None:
        given["EnableStream"] = "true" if args.stream else "false"
    given.update(dict(args.parameter))
    return given


def execute(args: argparse.Namespace) -> int:
    """Preflight, then the command."""
    timing = Timing(poll=args.poll_interval, timeout=args.timeout)
    ctx = preflight(args.profile, args.region, need_iot=args.command != "destroy")
    if args.command == "destroy":
        return destroy(ctx, args.stack, timing)
    root = args.root.resolve()
    opts = DeployOptions(
        stack=args.stack,
        root=root,
        template=args.template or root / "templates" / "chat.json",
        web_dir=args.web_dir or root / "web",
        package=PackageOptions(
            build_dir=args.build_dir or root / "build",
            requirements_override=args.requirements,
            find_links=tuple(args.find_links),
            install_deps=not args.no_deps_install,
        ),
        parameters=template_parameters(args),
        replace_failed=args.replace_failed,
        allow_missing_outputs=args.allow_missing_outputs,
        timing=timing,
    )
    return run(ctx, opts, execute_it=args.command == "deploy")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code instead of raising."""
    args = parser().parse_args(argv)
    try:
        return execute(args)
    except DeployError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
    except ClientError as exc:
        err = exc.response.get("Error", {})
        op = exc.operation_name
        print(f"error: AWS {op} failed: {err.get('Code')}: {err.get('Message')}", file=sys.stderr)
    except (BotoCoreError, ResponseParserError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"error: {first}", file=sys.stderr)
    except KeyboardInterrupt:
        report.warn("interrupted: a stack operation already started keeps running in AWS")
        return 130
    return 1


if __name__ == "__main__":
    sys.exit(main())

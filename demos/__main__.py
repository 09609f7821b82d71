"""``python -m demos [--host --port] [--mcp]``: serve the app on the embedded checkpoints (no network needed);
``--mcp`` also serves every public endpoint as an MCP tool at ``/gradio_api/mcp/`` (Gradio's ``mcp_server``)."""

from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m demos", description=__doc__)
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    p.add_argument(
        "--source",
        choices=["embedded", "hf"],
        default=os.environ.get("DLFS_ZOO_SOURCE", "embedded"),
        help="where the models come from (hf: the namespace in $DLFS_ZOO_NAMESPACE)",
    )
    p.add_argument(
        "--mcp",
        action="store_true",
        default=os.environ.get("GRADIO_MCP_SERVER", "").lower() == "true",
        help="also serve the endpoints as MCP tools (a Space sets GRADIO_MCP_SERVER=true)",
    )
    args = p.parse_args(argv)
    if not 0 < args.port < 65536:
        p.error(f"--port must be between 1 and 65535, got {args.port}")
    from .app import create_app, launch

    launch(create_app(args.source), server_name=args.host, server_port=args.port, mcp_server=args.mcp)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A local HTTP server that speaks the part of the Hugging Face Hub API dlfs-zoo uses.

The tests point ``HF_ENDPOINT`` at it and drive the real ``huggingface_hub`` client: create repo and
branch, preupload, commit (ndjson, inline base64 files), model info and listing, ``resolve/`` HEAD/GET
with ``ETag``, ``X-Repo-Commit`` and ``Content-Length``. Repos are stored as files in a temp dir.
``fail_with`` makes every request answer that status (500, 401...) to test error handling. A commit whose
header names a ``parentCommit`` that is no longer the branch's head is refused with 412, as the Hub refuses it
(optimistic concurrency: two writers that read the same head cannot both commit on it).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import yaml


def _replace(path: Path, text: str) -> None:
    """Write a file that readers may be reading (a branch's head): they see the old text or the new, whole."""
    tmp = path.with_name(f".{path.name}.{threading.get_ident()}")
    tmp.write_text(text)
    os.replace(tmp, path)


class ParentMovedError(Exception):
    """A commit's parentCommit is not the branch's head: someone committed since it was read."""


class Store:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lock = threading.Lock()

    def repo(self, repo_id: str) -> Path:
        return self.root / repo_id

    def refs(self, repo_id: str) -> dict[str, str]:
        return json.loads((self.repo(repo_id) / "refs.json").read_text())

    def exists(self, repo_id: str) -> bool:
        return (self.repo(repo_id) / "refs.json").is_file()

    def create(self, repo_id: str, private: bool) -> None:
        r = self.repo(repo_id)
        (r / "commits").mkdir(parents=True)
        sha = self._write_commit(repo_id, {}, None, "initial commit")
        _replace(r / "refs.json", json.dumps({"main": sha}))
        (r / "meta.json").write_text(json.dumps({"private": private}))

    def resolve(self, repo_id: str, rev: str) -> str | None:
        refs = self.refs(repo_id)
        if rev in refs:
            return refs[rev]
        return rev if (self.repo(repo_id) / "commits" / rev).is_dir() else None

    def files(self, repo_id: str, sha: str) -> dict[str, str]:
        """path -> blob sha256 of a commit."""
        return json.loads((self.repo(repo_id) / "commits" / sha / "tree.json").read_text())

    def blob(self, repo_id: str, digest: str) -> bytes:
        return (self.repo(repo_id) / "blobs" / digest).read_bytes()

    def _write_commit(self, repo_id: str, tree: dict[str, str], parent: str | None, summary: str) -> str:
        sha = hashlib.sha1(json.dumps([tree, parent, summary, time.time_ns()]).encode()).hexdigest()
        d = self.repo(repo_id) / "commits" / sha
        d.mkdir(parents=True)
        (d / "tree.json").write_text(json.dumps(tree))
        (d / "commit.json").write_text(json.dumps({"parent": parent, "summary": summary}))
        return sha

    def history(self, repo_id: str, rev: str = "main") -> list[tuple[str, dict[str, str]]]:
        """(summary, tree) of every commit of a branch, newest first (what the tests count commits by)."""
        out, sha = [], self.refs(repo_id)[rev]
        while sha:
            meta = json.loads((self.repo(repo_id) / "commits" / sha / "commit.json").read_text())
            out.append((meta["summary"], self.files(repo_id, sha)))
            sha = meta["parent"]
        return out

    def commit(
        self,
        repo_id: str,
        rev: str,
        files: dict[str, bytes],
        deleted: list[str],
        summary: str,
        parent_commit: str | None = None,
    ) -> str:
        with self.lock:
            refs = self.refs(repo_id)
            parent = refs[rev]
            if parent_commit is not None and parent_commit != parent:
                raise ParentMovedError(parent_commit)
            tree = dict(self.files(repo_id, parent))
            for path in deleted:
                tree.pop(path, None)
            blobs = self.repo(repo_id) / "blobs"
            blobs.mkdir(exist_ok=True)
            for path, data in files.items():
                digest = hashlib.sha256(data).hexdigest()
                (blobs / digest).write_bytes(data)
                tree[path] = digest
            sha = self._write_commit(repo_id, tree, parent, summary)
            refs[rev] = sha
            _replace(self.repo(repo_id) / "refs.json", json.dumps(refs))
            return sha


class Handler(BaseHTTPRequestHandler):
    server: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    # ----------------------------------------------------------------------------------- plumbing
    def _send(self, code: int, body: bytes = b"", headers: dict | None = None, head: bool = False) -> None:
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, code: int, obj, headers: dict | None = None) -> None:
        self._send(code, json.dumps(obj).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, code: int, message: str, error_code: str | None = None, head: bool = False) -> None:
        headers = {"Content-Type": "application/json", "X-Error-Message": message}
        if error_code:
            headers["X-Error-Code"] = error_code
        self._send(code, json.dumps({"error": message}).encode(), headers, head=head)

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(n) if n else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip(), 16)
                if size == 0:
                    self.rfile.readline()
                    break
                data += self.rfile.read(size)
                self.rfile.readline()
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return data

    def _guard(self, head: bool = False) -> bool:
        """Injected faults and auth; True when the request may go on."""
        self.server.requests.append((self.command, self.path))
        if self.server.fail_with:
            self._error(self.server.fail_with, f"injected failure {self.server.fail_with}", head=head)
            return False
        if self.server.token and self.command != "GET" and self.command != "HEAD":
            if self.headers.get("Authorization") != f"Bearer {self.server.token}":
                self._error(401, "Invalid credentials in Authorization header", head=head)
                return False
        return True

    # -------------------------------------------------------------------------------------- routes
    def do_POST(self) -> None:  # noqa: N802
        body = self._body()  # always consumed: a keep-alive connection must not see it as the next request
        if not self._guard():
            return
        path = unquote(urlparse(self.path).path)
        store = self.server.store
        if path == "/api/repos/create":
            req = json.loads(body)
            repo_id = f"{req['organization']}/{req['name']}" if req.get("organization") else req["name"]
            if req.get("type") == "dataset":  # datasets live beside models, under their own prefix
                repo_id = f"datasets/{repo_id}"
            if store.exists(repo_id):
                return self._json(409, {"error": "You already created this model repo", "url": self._url(repo_id)})
            store.create(repo_id, bool(req.get("private")))
            return self._json(200, {"url": self._url(repo_id), "name": repo_id, "id": repo_id})
        if path == "/api/validate-yaml":  # the client checks a README's metadata before committing it
            content = json.loads(body)["content"]
            if not content.startswith("---\n") or "\n---\n" not in content[4:]:
                return self._json(200, {"errors": [], "warnings": [{"message": "empty or missing metadata"}]})
            meta = yaml.safe_load(content[4:].split("\n---\n", 1)[0]) or {}
            errors = [] if isinstance(meta.get("model-index", []), list) else [{"message": "model-index: list"}]
            return self._json(400 if errors else 200, {"errors": errors, "warnings": []})
        parts = path.split("/")  # ['', 'api', 'models' | 'datasets', ns, name, action, rev...]
        if len(parts) >= 7 and parts[1] == "api" and parts[2] in ("models", "datasets"):
            repo_id, action, rev = _repo_key(parts[2], parts[3], parts[4]), parts[5], "/".join(parts[6:])
            if not store.exists(repo_id):
                return self._error(404, "Repository not found", "RepoNotFound")
            if action == "branch":
                if rev in store.refs(repo_id):
                    return self._error(409, f"Reference {rev} already exists")
                with store.lock:
                    refs = store.refs(repo_id)
                    refs[rev] = refs["main"]
                    _replace(store.repo(repo_id) / "refs.json", json.dumps(refs))
                return self._json(200, {})
            if rev not in store.refs(repo_id):
                return self._error(404, f"Revision {rev} not found", "RevisionNotFound")
            if action == "preupload":
                files = json.loads(body)["files"]
                return self._json(
                    200,
                    {
                        "files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False, "oid": None}
                            for f in files
                        ]
                    },
                )
            if action == "commit":
                files, deleted, summary, parent_commit = {}, [], "", None
                for line in body.decode().splitlines():
                    if not line.strip():
                        continue
                    item = json.loads(line)
                    if item["key"] == "header":
                        summary = item["value"]["summary"]
                        parent_commit = item["value"].get("parentCommit")
                    elif item["key"] == "file":
                        files[item["value"]["path"]] = base64.b64decode(item["value"]["content"])
                    elif item["key"] == "deletedFile":
                        deleted.append(item["value"]["path"])
                    else:
                        return self._error(400, f"unsupported commit operation {item['key']}")
                try:
                    sha = store.commit(repo_id, rev, files, deleted, summary, parent_commit)
                except ParentMovedError:  # the Hub's own answer to a commit on a stale head
                    self.server.stale_commits += 1
                    return self._error(412, "A commit has happened since. Please refresh and try again.")
                return self._json(
                    200,
                    {
                        "commitUrl": f"{self._url(repo_id)}/commit/{sha}",
                        "commitOid": sha,
                        "success": True,
                        "pullRequestUrl": None,
                    },
                )
        self._error(404, f"no route for POST {path}")

    def do_GET(self) -> None:  # noqa: N802
        self._get(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._get(head=True)

    def _get(self, head: bool) -> None:
        if not self._guard(head):
            return
        url = urlparse(self.path)
        path = unquote(url.path)
        store = self.server.store
        if path == "/api/models":
            author = parse_qs(url.query).get("author", [None])[0]
            root = store.root / author if author else store.root
            ids = (
                sorted(f"{author}/{p.name}" for p in root.iterdir() if (p / "refs.json").is_file())
                if (root.is_dir())
                else []
            )
            return self._json(200, [{"id": i, "modelId": i, "private": False} for i in ids])
        parts = path.split("/")
        if len(parts) >= 5 and parts[1] == "api" and parts[2] in ("models", "datasets"):
            repo_id = _repo_key(parts[2], parts[3], parts[4])
            action = parts[5] if len(parts) > 5 else ""
            rev = parts[6] if len(parts) > 6 and action in ("revision", "tree") else "main"
            if not store.exists(repo_id):
                return self._error(404, "Repository not found", "RepoNotFound", head)
            sha = store.resolve(repo_id, rev)
            if sha is None:
                return self._error(404, f"Revision {rev} not found", "RevisionNotFound", head)
            tree = store.files(repo_id, sha)
            if action == "tree":
                return self._json(
                    200,
                    [
                        {"type": "file", "path": p, "oid": digest, "size": len(store.blob(repo_id, digest))}
                        for p, digest in sorted(tree.items())
                    ],
                )
            siblings = [{"rfilename": p} for p in sorted(tree)]
            return self._json(
                200,
                {
                    "id": repo_id,
                    "modelId": repo_id,
                    "sha": sha,
                    "siblings": siblings,
                    "private": False,
                    "tags": [],
                    "downloads": 0,
                    "likes": 0,
                },
            )
        # /{ns}/{name}/resolve/{rev}/{file}, /datasets/{ns}/{name}/resolve/{rev}/{file}
        if len(parts) >= 7 and parts[1] == "datasets" and parts[4] == "resolve":
            parts = ["", f"datasets/{parts[2]}", parts[3], *parts[4:]]
        if len(parts) >= 6 and parts[3] == "resolve":
            repo_id, rev, file = f"{parts[1]}/{parts[2]}", parts[4], "/".join(parts[5:])
            if not store.exists(repo_id):
                return self._error(404, "Repository not found", "RepoNotFound", head)
            sha = store.resolve(repo_id, rev)
            if sha is None:
                return self._error(404, f"Revision {rev} not found", "RevisionNotFound", head)
            tree = store.files(repo_id, sha)
            if file not in tree:
                return self._error(404, f"{file} not found", "EntryNotFound", head)
            data = store.blob(repo_id, tree[file])
            data = self.server.tamper.get(file, data)
            headers = {"ETag": f'"{tree[file]}"', "X-Repo-Commit": sha, "Content-Type": "application/octet-stream"}
            return self._send(200, data, headers, head=head)
        self._error(404, f"no route for GET {path}", head=head)

    def _url(self, repo_id: str) -> str:
        return f"{self.server.endpoint}/{repo_id}"


def _repo_key(kind: str, ns: str, name: str) -> str:
    """Where the store keeps a repo: models at ``ns/name``, datasets at ``datasets/ns/name``."""
    return f"{ns}/{name}" if kind == "models" else f"datasets/{ns}/{name}"


class HubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, token: str | None = None) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.store = Store(root)
        self.token = token
        self.fail_with: int | None = None
        self.tamper: dict[str, bytes] = {}  # file name -> bytes served instead (corruption tests)
        self.requests: list[tuple[str, str]] = []
        self.stale_commits = 0  # commits refused with 412 (their parent was not the head)
        self.connections: set = set()
        self.endpoint = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def process_request(self, request, client_address) -> None:
        self.connections.add(request)
        super().process_request(request, client_address)

    def handle_error(self, request, client_address) -> None:
        """A client killed mid-request (the workers' test kills one) is no server error: said nothing."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def start(self) -> HubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        """Down for real: the listening socket and every open keep-alive connection are closed."""
        import socket

        self.shutdown()
        self.server_close()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass

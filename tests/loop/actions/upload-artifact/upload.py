"""Zip the given paths and upload them to the artifact server of this run (v4 protocol:
CreateArtifact, the zip to the signed URL, FinalizeArtifact)."""

import base64
import hashlib
import io
import json
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

SERVICE = "twirp/github.actions.results.api.v1.ArtifactService/"


def backend_ids() -> tuple[str, str]:
    claims = os.environ["ACTIONS_RUNTIME_TOKEN"].split(".")[1]
    scope = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["scp"]
    part = next(p for p in scope.split() if p.startswith("Actions.Results:"))
    _, run, job = part.split(":")
    return run, job


def call(method: str, body: dict) -> dict:
    request = urllib.request.Request(os.environ["ACTIONS_RESULTS_URL"] + SERVICE + method,
                                     data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json",
                                              "Authorization": "Bearer " + os.environ["ACTIONS_RUNTIME_TOKEN"]})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def main() -> int:
    name = os.environ["NAME"]
    paths = [Path(p.strip()) for p in os.environ["PATHS"].splitlines() if p.strip()]
    files: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            files += [(f, f.relative_to(path).as_posix()) for f in sorted(path.rglob("*")) if f.is_file()]
        elif path.is_file():
            files.append((path, path.name))
    if not files:
        message = f"no files found at {', '.join(map(str, paths))}"
        if os.environ.get("IF_NONE") == "error":
            print(f"::error::{message}")
            return 1
        if os.environ.get("IF_NONE") != "ignore":
            print(f"::warning::{message}: no artifact uploaded")
        return 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, arcname in files:
            archive.write(path, arcname)
    data = buffer.getvalue()
    run, job = backend_ids()
    ids = {"workflow_run_backend_id": run, "workflow_job_run_backend_id": job}
    created = call("CreateArtifact", {**ids, "name": name, "version": 4})
    url = created["signedUploadUrl"]
    for comp, body in (("block", data), ("blocklist", b"")):
        put = urllib.request.Request(f"{url}&comp={comp}", data=body, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(put, timeout=30).close()
    done = call("FinalizeArtifact", {**ids, "name": name, "size": str(len(data)),
                                     "hash": "sha256:" + hashlib.sha256(data).hexdigest()})
    print(f"uploaded {name}: {len(files)} files, {len(data)} bytes")
    with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
        out.write(f"artifact-id={done.get('artifactId', '')}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Download an artifact (a zip) and unzip it, refusing any member that would land
outside the destination."""

import base64
import io
import json
import os
import sys
import urllib.request
import zipfile
from pathlib import Path

SERVICE = "twirp/github.actions.results.api.v1.ArtifactService/"


def from_api(name: str) -> bytes:
    api, repo, token = os.environ["GITHUB_API_URL"], os.environ["REPOSITORY"], os.environ["TOKEN"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
    listing = urllib.request.Request(f"{api}/repos/{repo}/actions/runs/{os.environ['RUN_ID']}/artifacts?name={name}",
                                     headers=headers)
    with urllib.request.urlopen(listing, timeout=30) as answer:
        found = [a for a in json.loads(answer.read())["artifacts"] if a["name"] == name]
    if not found:
        raise SystemExit(f"::error::no artifact {name} in run {os.environ['RUN_ID']}")
    with urllib.request.urlopen(urllib.request.Request(found[0]["archive_download_url"], headers=headers),
                                timeout=30) as answer:
        return answer.read()


def from_server(name: str) -> bytes:
    claims = os.environ["ACTIONS_RUNTIME_TOKEN"].split(".")[1]
    scope = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["scp"]
    _, run, job = next(p for p in scope.split() if p.startswith("Actions.Results:")).split(":")
    body = json.dumps({"workflow_run_backend_id": run, "workflow_job_run_backend_id": job, "name": name}).encode()
    request = urllib.request.Request(os.environ["ACTIONS_RESULTS_URL"] + SERVICE + "GetSignedArtifactURL",
                                     data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        url = json.loads(answer.read())["signedUrl"]
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def main() -> int:
    name = os.environ["NAME"]
    data = from_api(name) if os.environ.get("RUN_ID") else from_server(name)
    dest = Path(os.environ.get("DEST") or ".").resolve()
    dest.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for member in archive.infolist():
            target = (dest / member.filename).resolve()
            if not target.is_relative_to(dest):
                print(f"::error::artifact member {member.filename!r} leaves the destination")
                return 1
            archive.extract(member, dest)
        print(f"downloaded {name}: {len(archive.infolist())} files into {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

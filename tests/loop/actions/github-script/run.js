// Runs INPUT_SCRIPT as `async (require, github, context, core) => { ... }`, with a REST
// client that knows only the calls the workflows of this project make: any other call
// fails loudly, so the stand-in can never pretend.
"use strict";
const fs = require("fs");

const api = process.env.GITHUB_API_URL.replace(/\/$/, "");
const token = process.env.INPUT_GITHUB_TOKEN;

async function call(method, path, body) {
  const answer = await fetch(api + path, {
    method,
    headers: { Authorization: `Bearer ${token}`, Accept: "application/vnd.github+json",
               "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${method} ${path}: HTTP ${answer.status} ${text}`);
  return { status: answer.status, data: text ? JSON.parse(text) : null };
}

const query = (params) => new URLSearchParams(
  Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)])).toString();

const github = {
  rest: {
    pulls: {
      get: ({ owner, repo, pull_number }) => call("GET", `/repos/${owner}/${repo}/pulls/${pull_number}`),
    },
    issues: {
      listComments: ({ owner, repo, issue_number, per_page, page }) =>
        call("GET", `/repos/${owner}/${repo}/issues/${issue_number}/comments?${query({ per_page, page })}`),
      createComment: ({ owner, repo, issue_number, body }) =>
        call("POST", `/repos/${owner}/${repo}/issues/${issue_number}/comments`, { body }),
      updateComment: ({ owner, repo, comment_id, body }) =>
        call("PATCH", `/repos/${owner}/${repo}/issues/comments/${comment_id}`, { body }),
    },
    actions: {
      listWorkflowRunArtifacts: ({ owner, repo, run_id, per_page, page, name }) =>
        call("GET", `/repos/${owner}/${repo}/actions/runs/${run_id}/artifacts?${query({ per_page, page, name })}`),
    },
  },
  async paginate(method, params) {
    const all = [];
    const per_page = params.per_page || 30;
    for (let page = 1; ; page++) {
      const { data } = await method({ ...params, per_page, page });
      all.push(...data);
      if (data.length < per_page) return all;
    }
  },
};

const [owner, repo] = process.env.GITHUB_REPOSITORY.split("/");
const context = {
  repo: { owner, repo },
  eventName: process.env.GITHUB_EVENT_NAME,
  sha: process.env.GITHUB_SHA,
  ref: process.env.GITHUB_REF,
  runId: Number(process.env.GITHUB_RUN_ID),
  payload: JSON.parse(fs.readFileSync(process.env.GITHUB_EVENT_PATH, "utf8")),
};

const escape = (s) => String(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
const core = {
  info: (m) => console.log(m),
  notice: (m) => console.log(`::notice::${escape(m)}`),
  warning: (m) => console.log(`::warning::${escape(m)}`),
  error: (m) => console.log(`::error::${escape(m)}`),
  setFailed: (m) => { console.log(`::error::${escape(m)}`); process.exitCode = 1; },
};

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor;
new AsyncFunction("require", "github", "context", "core", process.env.INPUT_SCRIPT)(require, github, context, core)
  .catch((error) => { console.log(`::error::${escape(error.message)}`); process.exitCode = 1; });

/**
 * `npm run plan`: what a change of tenants.json means, for the reviewer of a pull request.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ChangePlan, MOVING_DOCS, OFFBOARDING_DOCS, compareFleets } from "../fleet/review/changePlan";
import { bar, renderMarkdown, renderText } from "../fleet/review/changePlanReport";
import { formatProblems } from "../fleet/forms/problems";
import { LOCAL_STACK_CONFIG, projectWith, stackFileText } from "./harness/projectCopy";
import { PROJECT_ROOT } from "./harness/runFleet";
import { targetsOf, validate } from "./harness/plans";
import { writeTempFile } from "./harness/tempFiles";

const TARGETS = targetsOf({
    "eu-1": { dockerHost: "ssh://deploy@eu-1", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32, diskGb: 100 } },
    "us-1": { dockerHost: "ssh://deploy@us-1", publicHost: "us-1.example.com", acceptSharedCookies: true, capacity: { cpus: 4, memoryGb: 8 }, overcommit: { cpu: 2, memory: 1.5 } },
});

function snapshot(tenants: object[]) {
    const result = validate(JSON.stringify({ tenants }), { targets: TARGETS, defaultTarget: "eu-1" });
    if (!result.ok) throw new Error(formatProblems(result.problems));
    return { tenants: result.tenants, targets: TARGETS };
}

function planOf(before: object[], after: object[]): ChangePlan {
    return compareFleets(snapshot(before), snapshot(after));
}

const ACME = { id: "acme", port: 5701 };
const detailsOf = (plan: ChangePlan, id: string) => plan.changes.find((c) => c.id === id)?.details ?? [];
const risksOf = (plan: ChangePlan, id: string) => plan.risks.filter((r) => r.tenant === id).map((r) => `${r.what} ${r.todo}`);

describe("each kind of change, per tenant", () => {
    test("an added tenant shows what it gets", () => {
        const plan = planOf([], [{ id: "globex", port: 5702, workers: 2, resources: { memoryGb: 3 } }]);
        assert.deepEqual(plan.changes.map((c) => [c.kind, c.id]), [["added", "globex"]]);
        assert.deepEqual(detailsOf(plan, "globex"), ["n8n 2.41.1, 2 workers, 2 CPU / 3 GB / 10 GB disk, port 5702, http://eu-1.example.com:5702/"]);
    });

    test("only an archived tenant may leave: removing another blocks the change, with the steps", () => {
        const plan = planOf([ACME], []);
        assert.deepEqual(plan.changes.map((c) => [c.kind, c.id]), [["removed", "acme"]]);
        assert.match(plan.blocked.map((b) => `${b.tenant} ${b.what} ${b.todo}`).join(), /acme is removed while active: only an archived tenant may leave tenants\.json .* Put it back with "status": "archived" and deploy .*README\.md#day-two-operations/);
        const archived = planOf([{ ...ACME, status: "archived" }], []);
        assert.deepEqual(archived.blocked, []);
        assert.match(risksOf(archived, "acme")[0], /leaves the stack: its volumes and backups stay on the host, no longer managed.* Check the key is escrowed/);
    });

    test("archiving a suspended tenant is blocked: its final backup needs its database running", () => {
        const plan = planOf([{ ...ACME, status: "suspended" }], [{ ...ACME, status: "archived" }]);
        assert.match(plan.blocked.map((b) => `${b.what} ${b.todo}`).join(), /final backup needs its PostgreSQL running.* Resume it/);
    });

    test("archiving is listed and is a risk, with the key to escrow", () => {
        const plan = planOf([ACME], [{ ...ACME, status: "archived" }]);
        assert.match(detailsOf(plan, "acme")[0], /^archived: a final backup, then its containers are removed/);
        assert.match(risksOf(plan, "acme")[0], /its n8n stops for good after a final backup set\. Escrow its key/);
    });

    test("suspension is a risk; resumption is not", () => {
        const suspend = planOf([ACME], [{ ...ACME, status: "suspended" }]);
        assert.match(detailsOf(suspend, "acme")[0], /^suspended/);
        assert.match(risksOf(suspend, "acme")[0], /editor, webhooks and schedules stop/);
        const resume = planOf([{ ...ACME, status: "suspended" }], [ACME]);
        assert.match(detailsOf(resume, "acme")[0], /^resumed/);
        assert.deepEqual(resume.risks, []);
    });

    test("an upgrade is listed; a downgrade is a risk", () => {
        assert.deepEqual(detailsOf(planOf([{ ...ACME, n8nVersion: "2.40.0" }], [{ ...ACME, n8nVersion: "2.41.1" }]), "acme"), ["n8n 2.40.0 -> 2.41.1 (upgrade)"]);
        const down = planOf([{ ...ACME, n8nVersion: "2.41.1" }], [{ ...ACME, n8nVersion: "2.9.0" }]);
        assert.deepEqual(detailsOf(down, "acme"), ["n8n 2.41.1 -> 2.9.0 (downgrade)"]);
        assert.match(risksOf(down, "acme")[0], /cannot run on a database that a newer version has migrated/);
    });

    test("workers, concurrency, time zone and port changes are listed", () => {
        const plan = planOf([ACME], [{ ...ACME, workers: 2, concurrency: 5, timezone: "Asia/Tokyo", port: 5799, url: "https://acme.example.com" }]);
        assert.deepEqual(detailsOf(plan, "acme"), [
            "workers 1 -> 2",
            "concurrency 10 -> 5",
            "port 5701 -> 5799",
            "URL http://eu-1.example.com:5701/ -> https://acme.example.com/",
            "time zone UTC -> Asia/Tokyo",
        ]);
        assert.match(risksOf(plan, "acme")[0], /webhooks registered with third parties still call the old one/);
    });

    test("a bigger budget is listed; a smaller one is a risk", () => {
        assert.deepEqual(planOf([ACME], [{ ...ACME, resources: { cpus: 4 } }]).risks, []);
        const smaller = planOf([ACME], [{ ...ACME, resources: { memoryGb: 2 } }]);
        assert.deepEqual(detailsOf(smaller, "acme"), ["resized 2 CPU / 4 GB / 10 GB disk -> 2 CPU / 2 GB / 10 GB disk"]);
        assert.match(risksOf(smaller, "acme")[0], /gets less CPU or memory/);
    });

    test("a move to another target is blocked, with where the steps are: the data does not move and pulumi up would stop", () => {
        const plan = planOf([ACME], [{ ...ACME, target: "us-1" }]);
        assert.match(detailsOf(plan, "acme")[0], /moved from target eu-1 to us-1/);
        assert.match(plan.blocked.map((b) => `${b.tenant} ${b.what} ${b.todo}`).join(), /acme moves from target eu-1 to us-1: its data does not move with it.* Keep it on eu-1 in this change.*README\.md#operating-the-fleet, "Moving a tenant to another target"/);
    });

    test("a new tenant's line shows every setting that is not the fleet's default", () => {
        const plan = planOf([], [
            {
                id: "globex",
                port: 5702,
                status: "suspended",
                concurrency: 5,
                timezone: "Asia/Tokyo",
                backup: { schedule: "hourly" },
                env: { N8N_SMTP_HOST: "smtp.secret.example" },
                outbound: { allowHostnames: ["api.partner.example"], allowIpRanges: ["10.20.0.0/16"] },
            },
        ]);
        assert.deepEqual(detailsOf(plan, "globex"), [
            "n8n 2.41.1, 1 worker, 2 CPU / 4 GB / 10 GB disk, port 5702, http://eu-1.example.com:5702/, suspended, concurrency 5, time zone Asia/Tokyo, backups hourly, keeping 24 hourly, 7 daily, 4 weekly, environment N8N_SMTP_HOST, outbound exceptions api.partner.example 10.20.0.0/16",
        ]);
    });

    test("outbound exceptions, on a new tenant or added to one, are a risk for the reviewer to agree to", () => {
        const opened = { outbound: { allowIpRanges: ["10.20.0.0/16"] } };
        assert.match(risksOf(planOf([], [{ ...ACME, ...opened }]), "acme")[0], /may call 10\.20\.0\.0\/16 although private and local addresses are blocked/);
        assert.match(risksOf(planOf([ACME], [{ ...ACME, ...opened }]), "acme")[0], /may call 10\.20\.0\.0\/16/);
        assert.deepEqual(planOf([{ ...ACME, ...opened }], [{ ...ACME, ...opened }]).risks, [], "an exception already deployed is not raised again");
    });

    test("an n8n version newer than the pin is a risk: nothing offline can tell it exists", () => {
        assert.match(risksOf(planOf([ACME], [{ ...ACME, n8nVersion: "2.99.0" }]), "acme")[0], /runs n8n 2\.99\.0, newer than the fleet's pin \(2\.41\.1\).* Check that n8n 2\.99\.0 is released/);
        assert.deepEqual(planOf([], [{ ...ACME, n8nVersion: "2.40.0" }]).risks, []);
    });

    test("environment changes name the variables and never show their values", () => {
        const plan = planOf([{ ...ACME, env: { N8N_SMTP_HOST: "old-secret-host", OLD_VAR: "x" } }], [{ ...ACME, env: { N8N_SMTP_HOST: "new-secret-host", NEW_VAR: "y" } }]);
        assert.deepEqual(detailsOf(plan, "acme"), ["environment +NEW_VAR ~N8N_SMTP_HOST -OLD_VAR"]);
        const context = { stack: "dev", tenantsFile: "tenants.json", base: "origin/main" };
        for (const text of [renderText(plan, context), renderMarkdown(plan, context)]) assert.doesNotMatch(text, /secret-host|"x"|"y"/);
    });

    test("an unchanged tenant is counted, not listed", () => {
        const plan = planOf([ACME, { id: "globex", port: 5702 }], [ACME, { id: "globex", port: 5702, workers: 2 }]);
        assert.deepEqual(plan.unchanged, ["acme"]);
        assert.deepEqual(plan.changes.map((c) => c.id), ["globex"]);
    });
});

describe("what a hosting business must agree to", () => {
    test("turning community packages on is a risk, and a new tenant's plan line says it", () => {
        const turnedOn = planOf([ACME], [{ ...ACME, communityPackages: "any" }]);
        assert.match(detailsOf(turnedOn, "acme").join(), /community packages off -> any/);
        assert.match(risksOf(turnedOn, "acme")[0], /may install any community node package, unverified ones included: their code runs unsandboxed/);
        const added = planOf([], [{ id: "globex", port: 5702, communityPackages: "verified" }]);
        assert.match(detailsOf(added, "globex")[0], /community packages verified/);
        assert.match(risksOf(added, "globex")[0], /n8n-verified community node packages/);
        assert.deepEqual(risksOf(planOf([{ ...ACME, communityPackages: "any" }], [{ ...ACME, communityPackages: "verified" }]), "acme"), [], "turning it down is no risk");
    });

    const AWS = { region: "eu-west-1", vpcId: "vpc-0a1b2c3d4e5f67890", subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"], hostSecurityGroupId: "sg-0123456789abcdef0" };
    const RDS_TARGETS = targetsOf({ "eu-1": { dockerHost: "ssh://deploy@eu-1", publicHost: "eu-1.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 }, aws: AWS } });
    const rdsSnapshot = (tenants: object[]) => {
        const result = validate(JSON.stringify({ tenants }), { targets: RDS_TARGETS, defaultTarget: "eu-1" });
        if (!result.ok) throw new Error(formatProblems(result.problems));
        return { tenants: result.tenants, targets: RDS_TARGETS };
    };

    test("a major RDS PostgreSQL upgrade is a risk with the downtime it brings", () => {
        const plan = compareFleets(rdsSnapshot([{ ...ACME, database: { kind: "rds", engineVersion: "17" } }]), rdsSnapshot([{ ...ACME, database: { kind: "rds", engineVersion: "18" } }]));
        assert.match(detailsOf(plan, "acme").join(), /PostgreSQL 17 -> 18/);
        assert.match(risksOf(plan, "acme")[0], /upgrades its RDS PostgreSQL from 17 to 18: a major upgrade, minutes of downtime/);
    });

    test("a second RDS tenant on one Docker host is a risk when it arrives, not on every later change", () => {
        const one = rdsSnapshot([{ ...ACME, database: { kind: "rds" } }]);
        const two = rdsSnapshot([{ ...ACME, database: { kind: "rds" } }, { id: "globex", port: 5702, database: { kind: "rds" } }]);
        const arrives = compareFleets(one, two).risks.filter((r) => r.tenant === "target eu-1");
        assert.equal(arrives.length, 1);
        assert.match(arrives[0].what, /runs 2 RDS tenants \(acme, globex\).* each other's database endpoints/);
        assert.deepEqual(compareFleets(two, two).risks.filter((r) => r.tenant === "target eu-1"), []);
    });
});

describe("targets", () => {
    test("CPU, memory and disk allotted before and after, against capacity", () => {
        const plan = planOf([ACME], [ACME, { id: "globex", port: 5702, resources: { cpus: 3, memoryGb: 6, diskGb: 20 } }]);
        const eu = plan.targets.find((t) => t.target === "eu-1");
        assert.deepEqual(eu && { tenants: [eu.tenantsBefore, eu.tenantsAfter], cpus: eu.cpus, memory: eu.memoryGb, disk: eu.diskGb }, {
            tenants: [1, 2],
            cpus: { before: 2, after: 5, capacity: 16, allowance: 16 },
            memory: { before: 4, after: 10, capacity: 32, allowance: 32 },
            disk: { before: 10, after: 30, capacity: 100, allowance: 100 },
        });
    });

    test("promising more than a target has (within its overcommit) is a risk", () => {
        const plan = planOf([], [{ ...ACME, target: "us-1", resources: { cpus: 6, memoryGb: 4 } }]);
        assert.match(plan.risks.map((r) => `${r.tenant} ${r.what}`).join("\n"), /target us-1 is overcommitted on CPU: its tenants are promised 6 of 4 \(overcommit allows 8\)/);
    });

    test("bars fill in proportion to capacity and mark an overrun", () => {
        assert.equal(bar(4, 16, 8), "██░░░░░░");
        assert.equal(bar(0, 16, 4), "░░░░");
        assert.equal(bar(20, 16, 4), "████!");
    });
});

describe("renderings", () => {
    const plan = planOf([ACME, { id: "old", port: 5709, status: "archived" }], [{ ...ACME, workers: 2 }, { id: "new", port: 5702 }]);
    const context = { stack: "dev", tenantsFile: "tenants.json", base: "origin/main" };

    test("text, for a terminal: risks, tenants, targets", () => {
        const text = renderText(plan, context);
        assert.equal(
            text.split("\n").slice(0, 10).join("\n"),
            [
                "n8n-fleet plan for stack dev: tenants.json against origin/main",
                "",
                "RISKS (1)",
                "  ! old leaves the stack: its volumes and backups stay on the host, no longer managed, and its key leaves the stack's outputs.",
                "    what to do: Check the key is escrowed; delete its volumes by hand only when the contract says so (README.md#day-two-operations, \"Offboarding\").",
                "",
                "TENANTS (1 added, 1 changed, 1 removed, 0 unchanged)",
                "  - old   [eu-1]  removed",
                "  ~ acme  [eu-1]  workers 1 -> 2",
                "  + new   [eu-1]  added: n8n 2.41.1, 1 worker, 2 CPU / 4 GB / 10 GB disk, port 5702, http://eu-1.example.com:5702/",
            ].join("\n"),
        );
        assert.match(text, /TARGETS\n  eu-1 \(2 -> 2 tenants\)\n    CPU     before █{5}░{15}  4 \/ 16\n            after  █{5}░{15}  4 \/ 16\n/);
    });

    test("a blocked change stands above everything, in both formats", () => {
        const blocked = planOf([ACME], []);
        assert.match(renderText(blocked, context), /^n8n-fleet plan .*\n\nBLOCKED \(1\): this change cannot be deployed as it is\n  x acme is removed while active/);
        assert.match(renderMarkdown(blocked, context), /#### ⛔ Blocked \(1\): this change cannot be deployed as it is\n\n- \*\*acme\*\* is removed while active/);
    });

    test("Markdown, for a pull request: a risk list, a tenants table and a targets table with bars", () => {
        const markdown = renderMarkdown(plan, context);
        assert.match(markdown, /^### n8n-fleet plan for stack `dev`\n`tenants\.json` against `origin\/main`: 1 added, 1 changed, 1 removed, 0 unchanged\./);
        assert.match(markdown, /#### ⚠️ Risks \(1\)\n\n- \*\*old\*\* leaves the stack: .*<br>\*\*What to do:\*\* Check the key is escrowed/);
        assert.match(markdown, /\| removed \| `old` \| eu-1 \| removed \|\n\| changed \| `acme` \| eu-1 \| workers 1 -> 2 \|\n\| added \| `new` \| eu-1 \| n8n 2\.41\.1/);
        assert.match(markdown, /\| eu-1 \| 2 → 2 \| before \| `█{5}░{15}` 4 \/ 16 \| `█{5}░{15}` 8 \/ 32 GB \| `█{4}░{16}` 20 \/ 100 GB \|/);
    });
});

test("the README sections the plan sends a reader to exist", () => {
    const readme = readFileSync(join(PROJECT_ROOT, "README.md"), "utf8");
    for (const link of [OFFBOARDING_DOCS, MOVING_DOCS]) {
        const [, anchor, phrase] = /^README\.md#([\w-]+), "(.+)"$/.exec(link) ?? [];
        assert.ok(anchor && phrase, link);
        const headings = [...readme.matchAll(/^#+ (.+)$/gm)].map((m) => ({ slug: m[1].toLowerCase().replace(/[^\w\s-]/g, "").replace(/\s+/g, "-"), at: m.index }));
        const section = headings.findIndex((h) => h.slug === anchor);
        assert.notEqual(section, -1, `${link}: no heading #${anchor}`);
        const text = readme.slice(headings[section].at, headings[section + 1]?.at);
        assert.match(text, new RegExp(`\\*\\*${phrase}[.*]`), `${link}: no paragraph "${phrase}" in that section`);
    }
});

describe("the command", () => {
    function plan(cwd: string, ...args: string[]) {
        return spawnSync(process.execPath, ["--require", "ts-node/register", join(cwd, "scripts", "plan.ts"), ...args], {
            cwd,
            env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true", INIT_CWD: cwd },
            encoding: "utf8",
        });
    }

    /** A project of its own with one stack, dev, on one local host, and this tenants file. */
    const devProject = (tenants: object) => projectWith({ "Pulumi.dev.yaml": stackFileText(LOCAL_STACK_CONFIG), "tenants.json": tenants });

    test("compares the working tree with a git ref, reading the base's stack and tenants files from git", () => {
        const repo = devProject({ tenants: [ACME, { id: "old", port: 5709, status: "archived" }, { id: "kept", port: 5710 }] });
        const git = (...args: string[]) => execFileSync("git", ["-C", repo, "-c", "user.email=ci@example.com", "-c", "user.name=CI", ...args], { encoding: "utf8" });
        git("init", "-q");
        git("add", ".");
        git("commit", "-qm", "base");
        writeFileSync(join(repo, "tenants.json"), JSON.stringify({ tenants: [{ ...ACME, workers: 2 }, { id: "new", port: 5702 }] }));

        const result = plan(repo, "--base", "HEAD", "--stack", "dev");
        assert.equal(result.status, 3, "kept left the file without being archived: blocked");
        assert.match(result.stdout, /^n8n-fleet plan for stack dev: tenants\.json against HEAD\n\nBLOCKED \(1\)/);
        assert.match(result.stdout, /  - kept +\[local\]  removed\n  - old +\[local\]  removed\n  ~ acme  +\[local\]  workers 1 -> 2\n  \+ new  +\[local\]  added: /);
        assert.match(plan(repo, "--base", "HEAD", "--stack", "dev", "--format", "markdown").stdout, /^### n8n-fleet plan for stack `dev`/);
        writeFileSync(join(repo, "tenants.json"), JSON.stringify({ tenants: [{ ...ACME, workers: 2 }, { id: "kept", port: 5710 }, { id: "new", port: 5702 }] }));
        assert.equal(plan(repo, "--base", "HEAD", "--stack", "dev").status, 0, "an archived tenant may leave");
    });

    test("a base that is a file is compared with the stack's tenants file, or with the file given", () => {
        const project = devProject({ tenants: [{ id: "client-a", port: 5678 }, { id: "client-b", port: 5679 }] });
        const base = writeTempFile("base.json", JSON.stringify({ tenants: [{ id: "client-a", port: 5678 }] }));
        const head = writeTempFile("head.json", JSON.stringify({ tenants: [{ id: "client-a", port: 5678, concurrency: 20 }] }));
        const result = plan(project, "--base", base, head);
        assert.equal(result.status, 0, result.stderr);
        assert.match(result.stdout, /~ client-a +\[local\] +concurrency 10 -> 20/);
        const stackFile = plan(project, "--base", base, "--stack", "dev");
        assert.match(stackFile.stdout, /\+ client-b/, "the stack's tenants.json adds client-b to the base");
    });

    test("an invalid head prints its problems instead of a plan, and exits 1", () => {
        const project = devProject({ tenants: [] });
        const head = writeTempFile("head.json", JSON.stringify({ tenants: [{ id: "client-a", port: 5678, wrokers: 2 }] }));
        const result = plan(project, "--base", head, head);
        assert.equal(result.status, 1);
        assert.equal(result.stdout, "");
        assert.match(result.stderr, /tenants\[0\]\.wrokers: unknown key "wrokers"\. Fix: did you mean "workers"\?[\s\S]*no plan/);
    });

    test("without --stack, every stack CI deploys is planned, blocked ones first; a local stack only when named", () => {
        const remote = (host: string, tenantsFile: string) => stackFileText({ "n8n-fleet:tenantsFile": tenantsFile, "n8n-fleet:targets": { "host-1": { dockerHost: host, publicHost: "h.example.com", acceptSharedCookies: true, capacity: { cpus: 16, memoryGb: 32 } } } });
        const project = projectWith({
            "Pulumi.dev.yaml": stackFileText(LOCAL_STACK_CONFIG),
            "tenants.json": { tenants: [ACME] },
            "Pulumi.eu.yaml": remote("ssh://deploy@eu.example.com", "tenants-eu.json"),
            "Pulumi.us.yaml": remote("ssh://deploy@us.example.com", "tenants-us.json"),
            "tenants-eu.json": { tenants: [ACME] },
            "tenants-us.json": { tenants: [] },
        });
        const base = writeTempFile("base.json", JSON.stringify({ tenants: [{ id: "globex", port: 5702 }] }));
        const result = plan(project, "--base", base);
        assert.equal(result.status, 3, result.stderr);
        assert.match(result.stdout, /^n8n-fleet plan for stack eu: [\s\S]*BLOCKED \(1\)[\s\S]*\nn8n-fleet plan for stack us: /);
        assert.doesNotMatch(result.stdout, /stack dev/);
        assert.match(result.stderr, /left out as local .*: dev; plan one with --stack/);
        assert.match(plan(project, "--base", base, "--stack", "dev").stdout, /^n8n-fleet plan for stack dev: /);
    });

    test("a base that is neither a file nor a ref, or an unknown format, is a usage error", () => {
        const project = devProject({ tenants: [ACME] });
        const unknown = plan(project, "--base", "no-such-branch");
        assert.equal(unknown.status, 2);
        assert.match(unknown.stderr, /--base no-such-branch is neither a file nor a git commit, branch or tag/);
        const format = plan(project, "--format", "html");
        assert.equal(format.status, 2);
        assert.match(format.stderr, /--format html is not text or markdown/);
    });
});

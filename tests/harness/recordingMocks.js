"use strict";
/**
 * The SDK's mock monitor, plus a record of every registration request exactly as the engine would
 * receive it: inputs with their secret markers, parent, provider, protect, dependencies. Plain
 * JavaScript so that the language-host test can use it without registering a TypeScript loader.
 */
const crypto = require("node:crypto");
const pulumi = require("@pulumi/pulumi");
const bcrypt = require("bcryptjs");

/** bcrypt's own base64 alphabet, for a salt derived from a resource name. */
const BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** The marker the SDK wraps secret values in on the wire. */
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const SPECIAL_SIG = "4dabf18193072939515e22adb298388d";

function isSecretValue(value) {
    return value !== null && typeof value === "object" && value[SPECIAL_SIG] === SECRET_SIG;
}

/** Strips secret markers, keeping the values. */
function reveal(value) {
    if (isSecretValue(value)) return reveal(value.value);
    if (Array.isArray(value)) return value.map(reveal);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reveal(v)]));
    return value;
}

/**
 * Provider-computed outputs the program reads; everything else echoes the inputs. `exitCodes`: the
 * exit status the provider records for a one-shot container (`attach`), by container name.
 */
function mockState(args, exitCodes) {
    switch (args.type) {
        case "docker:index/container:Container":
            return args.inputs.attach && exitCodes[args.inputs.name] !== undefined ? { ...args.inputs, exitCode: exitCodes[args.inputs.name] } : args.inputs;
        case "random:index/randomPassword:RandomPassword":
            // Stable per resource, as a real password is once it is in the state: two runs compare like two updates.
        {
            const result = crypto.createHash("sha512").update(`password:${args.name}`).digest("base64url").slice(0, args.inputs.length);
            // A real bcrypt hash of the result (cost 10, as the provider's), with a salt fixed per resource.
            const salt = [...crypto.createHash("sha256").update(`salt:${args.name}`).digest()].slice(0, 22).map((b) => BCRYPT_ALPHABET[b % 64]).join("");
            const bcryptHash = bcrypt.hashSync(result, `$2a$10$${salt}`);
            return { ...args.inputs, result, bcryptHash };
        }
        case "docker:index/remoteImage:RemoteImage": {
            const digest = crypto.createHash("sha256").update(args.inputs.name).digest("hex");
            return { ...args.inputs, imageId: `sha256:${digest}`, repoDigest: `${args.inputs.name.split(":")[0]}@sha256:${digest}` };
        }
        case "aws:rds/instance:Instance":
            return { ...args.inputs, address: `${args.inputs.identifier}.c0mock0.rds.amazonaws.com`, endpoint: `${args.inputs.identifier}.c0mock0.rds.amazonaws.com:5432` };
        default:
            return args.inputs;
    }
}

/**
 * Installs the mocks and returns the live list of registrations and the root stack's outputs.
 * Call before the program is loaded.
 */
function installRecordingMocks({ project = "n8n-fleet", stack = "dev", preview = false, exitCodes = {} } = {}) {
    const resources = [];
    const stackOutputs = { raw: undefined };
    pulumi.runtime.setMocks(
        {
            newResource: (args) => ({ id: `${args.name}-id`, state: mockState(args, exitCodes) }),
            call: (args) => {
                throw new Error(`unmocked call ${args.token}`);
            },
        },
        project,
        stack,
        preview,
    );
    const monitor = pulumi.runtime.getMonitor();
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, callback) => {
        const raw = req.getObject() ? req.getObject().toJavaScript() : {};
        const registration = {
            type: req.getType(),
            name: req.getName(),
            custom: req.getCustom(),
            parent: req.getParent(),
            provider: req.getProvider(),
            protect: req.getProtect() === true,
            retainOnDelete: req.getRetainondelete() === true,
            deleteBeforeReplace: req.getDeletebeforereplace() === true,
            ignoreChanges: req.getIgnorechangesList(),
            dependencies: req.getDependenciesList(),
            rawInputs: raw,
            inputs: reveal(raw),
            urn: "",
            sourcePosition: req.getSourceposition() ? `${req.getSourceposition().getUri()}:${req.getSourceposition().getLine()}` : "",
        };
        resources.push(registration);
        return register(req, (error, response) => {
            if (response) registration.urn = response.getUrn();
            callback(error, response);
        });
    };
    const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
    monitor.registerResourceOutputs = (req, callback) => {
        if (req.getUrn().endsWith(`::${project}-${stack}`) || req.getUrn().includes("pulumi:pulumi:Stack")) {
            stackOutputs.raw = req.getOutputs() ? req.getOutputs().toJavaScript() : {};
        }
        return registerOutputs(req, callback);
    };
    return { resources, stackOutputs };
}

module.exports = { installRecordingMocks, isSecretValue, reveal };

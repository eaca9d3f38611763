/** A registration request as the engine would receive it. */
export interface Registration {
    type: string;
    name: string;
    custom: boolean;
    parent: string;
    provider: string;
    protect: boolean;
    retainOnDelete: boolean;
    deleteBeforeReplace: boolean;
    /** Inputs whose later changes the engine ignores. */
    ignoreChanges: string[];
    dependencies: string[];
    /** Inputs on the wire, secret values still wrapped in their markers. */
    rawInputs: Record<string, unknown>;
    /** Inputs with secret markers stripped. */
    inputs: Record<string, any>;
    /** The URN the monitor answered with, as `pulumi stack export` shows it. */
    urn: string;
    /** `file:///...:line` of the code that declared it, as the engine shows it in diagnostics; empty when the SDK found none. */
    sourcePosition: string;
}

export interface Recording {
    resources: Registration[];
    stackOutputs: { raw: Record<string, unknown> | undefined };
}

export function installRecordingMocks(options?: { project?: string; stack?: string; preview?: boolean; exitCodes?: Record<string, number> }): Recording;
export function isSecretValue(value: unknown): boolean;
export function reveal<T>(value: T): T;

/**
 * tenants.json as text: JSON syntax errors, located, and keys written twice in one object.
 */
import { Node as JsonNode, ParseError, getNodePath, parseTree, printParseErrorCode, getNodeValue } from "jsonc-parser";
import { Problem, lineAndColumn } from "../forms/problems";
import type { FleetSource } from "./candidates";

const JSON_ERRORS: Record<string, string> = {
    InvalidSymbol: "unexpected character",
    InvalidNumberFormat: "malformed number",
    PropertyNameExpected: "expected a property name in double quotes (a trailing comma?)",
    ValueExpected: "expected a value",
    ColonExpected: "expected a colon after the property name",
    CommaExpected: "expected a comma between entries",
    CloseBraceExpected: "expected } to close an object",
    CloseBracketExpected: "expected ] to close an array",
    EndOfFileExpected: "unexpected text after the end of the document",
    InvalidCommentToken: "comments are not allowed in JSON",
    UnexpectedEndOfComment: "comments are not allowed in JSON",
    UnexpectedEndOfString: "unterminated string",
    UnexpectedEndOfNumber: "unterminated number",
    InvalidUnicode: "invalid unicode escape",
    InvalidEscapeCharacter: "invalid escape character in a string",
    InvalidCharacter: "invalid character in a string",
};

export interface Parsed {
    text: string;
    tree: JsonNode | undefined;
    data: unknown;
}

export function parseJson(source: FleetSource): Parsed | Problem[] {
    const errors: ParseError[] = [];
    const tree = parseTree(source.text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    // Only the first syntax error is reliable: the parser's later ones follow from it.
    const [first] = errors;
    if (first) {
        return [
            {
                file: source.file,
                path: [],
                message: `malformed JSON: ${JSON_ERRORS[printParseErrorCode(first.error)] ?? printParseErrorCode(first.error)}. Fix: correct the JSON at this line and column; JSON allows no comments, trailing commas or single quotes.`,
                ...lineAndColumn(source.text, first.offset),
            },
        ];
    }
    return { text: source.text, tree, data: tree ? getNodeValue(tree) : undefined };
}

/**
 * Every key written twice in one object. JSON parsers keep the last one silently, so a merge
 * leftover such as `"port": 5679, "port": 5680` would deploy 5680 without a word.
 */
export function duplicateKeys(source: FleetSource, tree: JsonNode | undefined): Problem[] {
    if (!tree) return [];
    const problems: Problem[] = [];
    const visit = (node: JsonNode) => {
        if (node.type === "object") {
            const first = new Map<string, JsonNode>();
            for (const property of node.children ?? []) {
                const key = property.children?.[0];
                if (!key) continue;
                const earlier = first.get(String(key.value));
                if (!earlier) {
                    first.set(String(key.value), property);
                    continue;
                }
                const was = lineAndColumn(source.text, earlier.offset);
                problems.push({
                    file: source.file,
                    path: getNodePath(key),
                    message: `"${key.value}" is written twice in this object, first at line ${was.line}, column ${was.column}; only this later one would count. Fix: keep one "${key.value}" and delete the other (often a merge leftover).`,
                    ...lineAndColumn(source.text, property.offset),
                });
            }
        }
        for (const child of node.children ?? []) visit(child);
    };
    visit(tree);
    return problems;
}

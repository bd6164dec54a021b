/**
 * Flower's task search syntax (FLOWER-API.md, `search=`), parsed exactly as Flower's HEAD does:
 * same tokens, same precedence, same error messages at the same positions.
 *
 *   term        case-insensitive substring of uuid, name, state, worker, args, kwargs or result
 *   field:value qualifier: name, worker, args, kwargs, result (substring), state (exact);
 *               kwargs:key=value matches one exact pair of the kwargs dict
 *   a b, a AND b, a OR b, ( ... ), "quoted phrase" (\" and \\ escape inside)
 *   non-exact terms need at least 3 characters; NOT and leading '-' are refused
 */
import { pyStr } from "../protocol/repr";

export const SEARCH_FIELDS: ReadonlySet<string> = new Set(["name", "state", "worker", "args", "kwargs", "result"]);
export const MIN_SUBSTRING_LENGTH = 3;
export const MAX_QUERY_LENGTH = 2048;
export const MAX_QUERY_TOKENS = 128;
export const MAX_QUERY_DEPTH = 5;

/** A bad search string; `message` is Flower's text, e.g. "NOT is not supported at position 0." */
export class SearchSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly position: number | null = null,
  ) {
    super(position === null ? `${reason}.` : `${reason} at position ${position}.`);
    this.name = "SearchSyntaxError";
  }
}

export type SearchField = "name" | "state" | "worker" | "args" | "kwargs" | "result";
export type SearchNode =
  | { kind: "all" }
  | { kind: "term"; field: SearchField | null; value: string }
  | { kind: "and"; children: SearchNode[] }
  | { kind: "or"; children: SearchNode[] };

type TokenKind = "LPAREN" | "RPAREN" | "AND" | "OR" | "TERM" | "EOF";
interface Token {
  kind: TokenKind;
  value: string;
  position: number;
}

const isSpace = (c: string): boolean => /\s/.test(c);

function pushToken(tokens: Token[], kind: TokenKind, value: string, position: number): void {
  tokens.push({ kind, value, position });
  if (tokens.length > MAX_QUERY_TOKENS) throw new SearchSyntaxError(`Query exceeds ${MAX_QUERY_TOKENS} tokens`);
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  const n = q.length;
  let i = 0;
  while (i < n) {
    if (isSpace(q[i])) {
      i++;
      continue;
    }
    const position = i;
    if (q[i] === "(" || q[i] === ")") {
      pushToken(tokens, q[i] === "(" ? "LPAREN" : "RPAREN", q[i], position);
      i++;
      continue;
    }
    let value = "";
    let quoted = false;
    let inQuote = false;
    while (i < n) {
      const c = q[i];
      if (c === "\\" && i + 1 < n && (q[i + 1] === '"' || q[i + 1] === "\\")) {
        value += q[i + 1];
        i += 2;
        continue;
      }
      if (c === '"') {
        quoted = true;
        inQuote = !inQuote;
        i++;
        continue;
      }
      if (!inQuote && (isSpace(c) || c === "(" || c === ")")) break;
      value += c;
      i++;
    }
    if (inQuote) throw new SearchSyntaxError("Unterminated quoted phrase", position);
    if (value === "") throw new SearchSyntaxError("Empty search term", position);
    let kind: TokenKind = "TERM";
    if (!quoted && (value === "AND" || value === "OR")) kind = value;
    else if (!quoted && value === "NOT") throw new SearchSyntaxError("NOT is not supported", position);
    pushToken(tokens, kind, value, position);
  }
  tokens.push({ kind: "EOF", value: "", position: n });
  return tokens;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  // A method, not a getter: TypeScript would narrow a getter's value across advances.
  private cur(): Token {
    return this.tokens[this.i];
  }

  parse(): SearchNode {
    if (this.cur().kind === "EOF") return { kind: "all" };
    const node = this.parseOr(0);
    if (this.cur().kind !== "EOF") throw new SearchSyntaxError(`Unexpected ${pyStr(this.cur().value)}`, this.cur().position);
    return node;
  }

  private parseOr(depth: number): SearchNode {
    const children = [this.parseAnd(depth)];
    while (this.cur().kind === "OR") {
      const op = this.tokens[this.i++];
      const k = this.cur().kind;
      if (k === "EOF" || k === "RPAREN" || k === "AND" || k === "OR") {
        throw new SearchSyntaxError("OR must be followed by a search term", op.position);
      }
      children.push(this.parseAnd(depth));
    }
    return combine("or", children);
  }

  private parseAnd(depth: number): SearchNode {
    const children = [this.parsePrimary(depth)];
    while (this.cur().kind !== "EOF" && this.cur().kind !== "RPAREN" && this.cur().kind !== "OR") {
      if (this.cur().kind === "AND") {
        const op = this.tokens[this.i++];
        const k = this.cur().kind;
        if (k === "EOF" || k === "RPAREN" || k === "AND" || k === "OR") {
          throw new SearchSyntaxError("AND must be followed by a search term", op.position);
        }
      } else if (this.cur().kind !== "TERM" && this.cur().kind !== "LPAREN") {
        throw new SearchSyntaxError(`Unexpected ${pyStr(this.cur().value)}`, this.cur().position);
      }
      children.push(this.parsePrimary(depth));
    }
    return combine("and", children);
  }

  private parsePrimary(depth: number): SearchNode {
    const tok = this.cur();
    if (tok.kind === "LPAREN") {
      if (depth >= MAX_QUERY_DEPTH) throw new SearchSyntaxError(`Query nesting exceeds ${MAX_QUERY_DEPTH} levels`, tok.position);
      this.i++;
      if (this.cur().kind === "RPAREN") throw new SearchSyntaxError("Empty group", tok.position);
      const node = this.parseOr(depth + 1);
      if (this.cur().kind !== "RPAREN") throw new SearchSyntaxError("Missing closing parenthesis", tok.position);
      this.i++;
      return node;
    }
    if (tok.kind !== "TERM") throw new SearchSyntaxError("Expected a search term", tok.position);
    this.i++;
    return parseTerm(tok);
  }
}

function combine(kind: "and" | "or", children: SearchNode[]): SearchNode {
  const flat: SearchNode[] = [];
  for (const c of children) {
    if (c.kind === kind) flat.push(...c.children);
    else flat.push(c);
  }
  return flat.length === 1 ? flat[0] : { kind, children: flat };
}

function parseTerm(tok: Token): SearchNode {
  let field: SearchField | null = null;
  let value = tok.value;
  const colon = value.indexOf(":");
  if (colon >= 0) {
    const candidate = value.slice(0, colon).toLowerCase();
    if (SEARCH_FIELDS.has(candidate)) {
      field = candidate as SearchField;
      value = value.slice(colon + 1);
    }
  }
  if (field === null && value.startsWith("-")) throw new SearchSyntaxError("Negation with '-' is not supported", tok.position);
  if (value === "") throw new SearchSyntaxError("Search qualifier requires a value", tok.position);
  const exact = field === "state" || (field === "kwargs" && value.includes("="));
  if (!exact && value.trim().length < MIN_SUBSTRING_LENGTH) {
    throw new SearchSyntaxError(`Substring search terms must contain at least ${MIN_SUBSTRING_LENGTH} characters`, tok.position);
  }
  return { kind: "term", field, value };
}

/** Parse a search string; throws SearchSyntaxError with Flower's message. Empty → match all. */
export function parseSearch(raw: string | null | undefined): SearchNode {
  const q = (raw ?? "").trim();
  if (q.length > MAX_QUERY_LENGTH) throw new SearchSyntaxError(`Query exceeds ${MAX_QUERY_LENGTH} characters`);
  return new Parser(tokenize(q)).parse();
}

// Matching a parsed search against the task store's columns: match.ts.

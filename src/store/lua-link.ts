/**
 * Keeps a script's shared helpers to the ones it uses. Redis runs a script's whole text on every EVALSHA:
 * each top-level `local function` of a prelude is a closure made again per call, and each `local X = base ..
 * '…'` a string built again, whether or not the script calls them. With every helper of the preludes
 * that is about a third of a small read's script time (bench/HISTORY.md, "Lua preludes").
 *
 * A prelude is a sequence of top-level definitions, each starting at column 0 with `local` (comment lines
 * before it belong to it, indented lines and `end` after it too). `linkLua` keeps, in their order, the
 * definitions whose names the body uses, then those that the kept ones use, and so on. Anything else at
 * the top level of a prelude is refused when the module loads: a statement run for its effect would be
 * dropped silently otherwise.
 */

interface Definition {
  names: string[];
  text: string;
}

const IDENTIFIER = /[A-Za-z_][A-Za-z0-9_]*/g;

/** The names a top-level line defines: `local function f(` → f; `local a, b = …` → a, b; else null. */
function definedNames(line: string): string[] | null {
  const fn = /^local function ([A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(line);
  if (fn) return [fn[1]!];
  const vars = /^local ([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*=/.exec(line);
  return vars ? vars[1]!.split(',').map((name) => name.trim()) : null;
}

/** A prelude's definitions, in order; throws on a top-level statement that defines nothing. */
export function preludeDefinitions(prelude: string): Definition[] {
  const definitions: Definition[] = [];
  let comments: string[] = [];
  for (const line of prelude.split('\n')) {
    if (line.trim() === '') continue;
    if (line.startsWith('--')) {
      comments.push(line);
      continue;
    }
    const names = definedNames(line);
    if (names) {
      definitions.push({ names, text: [...comments, line].join('\n') });
      comments = [];
      continue;
    }
    const last = definitions.at(-1);
    if (!last || !/^(\s|end\b)/.test(line)) throw new Error(`linkLua: a prelude's top-level statement must be a local definition: ${line}`);
    last.text += `\n${line}`;
  }
  return definitions;
}

/**
 * The names `text` uses in code: comments (`--` to the end of the line, outside quoted strings) are left
 * out, so a definition named only in another's comment is not linked. Until 2026-12-05 comments counted,
 * and a comment in the event log's keepShared naming touchAt gave every read script (GET_RESOURCE,
 * FIND_BY_INDEX) the cascade and event log helpers as well: GET_RESOURCE was 12,541 characters with 23
 * definitions made per call, where 2,792 and 11 do (bench/HISTORY.md, "Session 20").
 */
function identifiers(text: string): Set<string> {
  return new Set(withoutComments(text).match(IDENTIFIER) ?? []);
}

/** Lua source without its `--` comments (the preludes use no long brackets `[[ ]]`). */
export function withoutComments(text: string): string {
  let out = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = null;
    } else if (c === '-' && text[i + 1] === '-') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else {
      if (c === "'" || c === '"') quote = c;
      out += c;
    }
  }
  return out;
}

/** The prelude's definitions that `body` needs (directly or through each other), in order, then the body. */
export function linkLua(prelude: string, body: string): string {
  const definitions = preludeDefinitions(prelude);
  const kept = new Set<Definition>();
  let wanted = identifiers(body);
  while (wanted.size > 0) {
    const next = new Set<string>();
    for (const definition of definitions) {
      if (kept.has(definition) || !definition.names.some((name) => wanted.has(name))) continue;
      kept.add(definition);
      for (const name of identifiers(definition.text)) next.add(name);
    }
    wanted = next;
  }
  const used = definitions.filter((definition) => kept.has(definition)).map((definition) => definition.text);
  return `${used.join('\n')}\n${body}`;
}

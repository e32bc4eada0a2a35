/**
 * Parser glue: runs the generated nearley parser over one file and turns any nearley/moo failure
 * into ONE RuleError that says in words what was expected at that point.
 */
import nearley from 'nearley';
import grammar from './generated/rules.js';
import type { Decl, RulesFile } from './ast.js';
import { RuleError } from './errors.js';
import type { RulesLexer, Token } from './lexer.js';
import { setCurrentFile } from './build.js';

interface ParserState {
  rule: { name: string; symbols: unknown[] };
  dot: number;
}

const OPERATORS = new Set(['+', '-', '*', '/', '>', '>=', '<', '<=', '==', '!=', 'and', 'or']);

/** What a token kind means to a rule author, depending on the grammar rule that wants it. */
function describeSymbol(sym: unknown, ruleName: string): string | null {
  if (typeof sym !== 'object' || sym === null) return null;
  const rule = ruleName.split('$')[0];
  if ('literal' in sym) {
    const lit = String((sym as { literal: string }).literal);
    if (lit === 'NaN' || lit === 'Inf') return 'a number';
    return OPERATORS.has(lit) ? 'an operator' : JSON.stringify(lit);
  }
  const type = (sym as { type?: string }).type;
  switch (type) {
    case 'duration':
      return 'a duration like 5m';
    case 'number':
      return 'a number';
    case 'string':
      return rule === 'matcher' || rule === 'pair' ? 'a quoted string' : 'a string';
    case 'name':
      switch (rule) {
        case 'alert':
        case 'record':
          return 'a rule name';
        case 'receiver':
          return 'a receiver name';
        case 'ruleItem':
          return 'a level name';
        case 'pair':
        case 'matcher':
        case 'labelList':
          return 'a label name';
        case 'selector':
        case 'call':
          return 'a metric or function name';
        case 'option':
          return 'a receiver option';
        case 'optionValue':
          return 'a value';
        case 'routeItem':
          return 'a receiver name';
        default:
          return 'a name';
      }
    default:
      return null;
  }
}

function expectedWords(states: ParserState[]): string[] {
  const words: string[] = [];
  for (const st of states) {
    // `window when ...` would be a level named "window": not worth suggesting next to the real option.
    if (st.rule.name === 'ruleItem' && st.dot === 1 && (st.rule.symbols[1] as { literal?: string })?.literal === 'when') continue;
    const w = describeSymbol(st.rule.symbols[st.dot], st.rule.name);
    if (w && !words.includes(w)) words.push(w);
  }
  // Specific words first, the generic operator hint last.
  words.sort((a, b) => Number(a === 'an operator') - Number(b === 'an operator'));
  return words;
}

function joinWords(words: string[]): string {
  if (words.length === 0) return 'nothing more';
  if (words.length === 1) return words[0]!;
  return `${words.slice(0, -1).join(', ')} or ${words[words.length - 1]}`;
}

function endPosition(source: string): { line: number; col: number; offset: number } {
  const lines = source.split('\n');
  return { line: lines.length, col: lines[lines.length - 1]!.length + 1, offset: source.length };
}

/**
 * Parses one rules file into its AST (spans carry `file`). Throws RuleError (code SYNTAX or
 * BAD_STRING) at the first problem.
 */
export function parseRulesFile(source: string, file: string): RulesFile {
  setCurrentFile(file);
  const lexer = grammar.Lexer as unknown as RulesLexer;
  lexer.file = file;
  const parser = new nearley.Parser(nearley.Grammar.fromCompiled(grammar as unknown as nearley.CompiledRules));
  const table = (parser as unknown as { table: { states: ParserState[] }[] }).table;
  try {
    parser.feed(source);
  } catch (err) {
    if (err instanceof RuleError) throw err;
    if (lexer.lastError) throw lexer.lastError;
    const tok = (err as { token?: Token }).token;
    if (!tok) throw err;
    const expected = joinWords(expectedWords(table[table.length - 2]!.states));
    throw new RuleError('SYNTAX', `expected ${expected}, got ${JSON.stringify(tok.text)}`, {
      file,
      line: tok.line,
      col: tok.col,
      offset: tok.offset,
    });
  }
  const results = parser.results as Decl[][];
  if (results.length === 0) {
    const expected = joinWords(expectedWords(table[table.length - 1]!.states));
    throw new RuleError('SYNTAX', `expected ${expected}, got end of file`, { file, ...endPosition(source) });
  }
  if (results.length > 1) throw new Error(`internal: ambiguous grammar (${results.length} parses) in ${file}`);
  return { kind: 'file', file, source, decls: results[0]! };
}

/** Number of complete parses (tests use it to prove the grammar is unambiguous). */
export function countParses(source: string, file = '<input>'): number {
  setCurrentFile(file);
  const parser = new nearley.Parser(nearley.Grammar.fromCompiled(grammar as unknown as nearley.CompiledRules));
  parser.feed(source);
  return parser.results.length;
}

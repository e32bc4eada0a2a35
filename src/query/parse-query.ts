/**
 * Parses a query with the rules language's own parser and checker (one implementation of the
 * expression language): the text is checked as the `value` of a recording rule, and error
 * positions are mapped back to the query text.
 */
import { checkSources, type CExpr } from '../dsl/index.js';
import { compilePlan, type Leaf } from '../dsl/compile.js';
import { QueryError } from './query-error.js';

/** A number-valued query is checked as a recording rule's value, a condition as an alert's `when`. */
const VALUE_PREFIX = 'record vigil_query { value ';
const CONDITION_PREFIX = 'alert vigil_query { when ';
const SUFFIX = '\n}\n';

export interface ParsedQuery {
  text: string;
  expr: CExpr;
  /** The aggregations that read samples, with their selectors and groupings. */
  leaves: Leaf[];
}

/** Parses and checks `text`; throws QueryError(400) with the position of the first problem. */
export function parseQuery(text: string): ParsedQuery {
  if (text.trim() === '') throw new QueryError('QUERY_PARAM', 'query: must not be empty', 400, 0);
  if (text.includes('}') && /\brecord\b|\balert\b/.test(text)) {
    throw new QueryError('QUERY_PARSE', 'query: expected an expression, not a rule declaration', 400, 0);
  }
  let prefix = VALUE_PREFIX;
  let { model, errors } = checkSources([{ file: '<query>', source: prefix + text + SUFFIX }]);
  if (errors.length > 0 && /got a condition/.test(errors[0]!.message)) {
    prefix = CONDITION_PREFIX;
    ({ model, errors } = checkSources([{ file: '<query>', source: prefix + text + SUFFIX }]));
  }
  if (errors.length > 0 || !model) {
    const first = errors[0]!;
    const position = Math.max(0, Math.min(text.length, first.offset - prefix.length));
    const line = text.slice(0, position).split('\n').length;
    const column = position - text.lastIndexOf('\n', position - 1);
    throw new QueryError('QUERY_PARSE', `query:${line}:${column}: ${first.message}`, 400, position);
  }
  const rule = model.rules[0]!;
  const expr = (rule.value ?? rule.when)!;
  const plan = compilePlan({ rules: [rule] });
  const leaves = plan.rules[0]!.leaves;
  const absent = leaves.find((l) => l.kind === 'absent');
  if (absent) {
    throw new QueryError('QUERY_UNSUPPORTED', `query: ${absent.text}: absent() needs rule state; use it in an alert rule`, 400, text.indexOf('absent'));
  }
  return { text, expr, leaves };
}

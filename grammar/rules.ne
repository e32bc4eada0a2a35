# Grammar of the Vigil rules language (../shared/design/rules-language.md).
# Compiled by scripts/build-grammar.mjs into src/dsl/generated/rules.ts; parse.ts drives it.
# Words (alert, when, by, ...) are `name` tokens matched by value; RESERVED words are rejected
# where a free name is expected, so every valid input has exactly one parse.
@preprocessor typescript

@{%
import { RulesLexer } from '../lexer.js';
import * as B from '../build.js';

const lexer = new RulesLexer();
%}

@lexer lexer

# ---------- file ----------

# file: any number of declarations
file -> decl:*
  {% ([decls]) => decls %}

decl -> defaults {% id %} | alert {% id %} | record {% id %} | receiver {% id %} | route {% id %} | inhibit {% id %}

# defaults { rule settings }
defaults -> "defaults" "{" ruleItem:* "}"
  {% ([kw, , items, close]) => ({ kind: 'defaults', items, span: B.over(kw, close) }) %}

# alert Name { rule settings }
alert -> "alert" %name "{" ruleItem:* "}"
  {% ([kw, name, , items, close]) => ({ kind: 'alert', name: B.ident(name), items, span: B.over(kw, close) }) %}

# record metric:name { rule settings }
record -> "record" %name "{" ruleItem:* "}"
  {% ([kw, name, , items, close]) => ({ kind: 'record', name: B.ident(name), items, span: B.over(kw, close) }) %}

# ---------- rule settings ----------

# when EXPR
ruleItem -> "when" expr
  {% ([kw, expr]) => ({ kind: 'when', expr, span: B.over(kw, expr) }) %}
# value EXPR
  | "value" expr
  {% ([kw, expr]) => ({ kind: 'value', expr, span: B.over(kw, expr) }) %}
# LEVEL when EXPR   (warning when value > 80, clear when value < 75)
  | %name "when" expr
  {% ([lvl, , expr], _l, reject) => (B.RESERVED.has(lvl.value) ? reject : { kind: 'level', level: B.ident(lvl), expr, span: B.over(lvl, expr) }) %}
# window D [every D]
  | "window" %duration ("every" %duration):?
  {% ([kw, size, every]) => ({ kind: 'window', size: B.dur(size), every: every ? B.dur(every[1]) : null, span: B.over(kw, every ? every[1] : size) }) %}
# grace D | for D | keep_firing D | forget D
  | ("grace" | "for" | "keep_firing" | "forget") %duration
  {% ([[kw], d]) => ({ kind: kw.value, value: B.dur(d), span: B.over(kw, d) }) %}
# severity critical | severity "critical"
  | "severity" (%name | %string)
  {% ([kw, [v]]) => ({ kind: 'severity', value: v.type === 'string' ? B.str(v) : B.ident(v), span: B.over(kw, v) }) %}
# labels { k = "v" ... } | annotations { k = "v" ... }
  | ("labels" | "annotations") "{" pairs "}"
  {% ([[kw], , pairs, close]) => ({ kind: kw.value, pairs, span: B.over(kw, close) }) %}

# k = "v", separated by optional commas
pairs -> null {% () => [] %}
  | pair (",":? pair):* ",":?
  {% ([first, rest]) => B.list(first, rest) %}

pair -> %name "=" %string
  {% ([k, , v]) => ({ kind: 'pair', key: B.ident(k), value: B.str(v), span: B.over(k, v) }) %}

# ---------- matchers and label lists ----------

# { l = "v", l =~ "re" }, optional commas
matcherBlock -> "{" matchers "}"
  {% ([open, matchers, close]) => ({ matchers, span: B.over(open, close) }) %}

matchers -> null {% () => [] %}
  | matcher (",":? matcher):* ",":?
  {% ([first, rest]) => B.list(first, rest) %}

matcher -> %name ("=" | "!=" | "=~" | "!~") %string
  {% ([l, [op], v]) => ({ kind: 'matcher', label: B.ident(l), op: op.value, value: B.str(v), span: B.over(l, v) }) %}

# (a, b, c)
labelList -> "(" ")"
  {% ([open, close]) => ({ labels: [], span: B.over(open, close) }) %}
  | "(" %name ("," %name):* ",":? ")"
  {% ([open, first, rest, , close]) => ({ labels: B.list(first, rest).map(B.ident), span: B.over(open, close) }) %}

# ---------- expressions (lowest precedence first) ----------

# a or b
expr -> expr "or" andExpr {% ([l, op, r]) => B.binary(l, op, r) %}
  | andExpr {% id %}

# a and b
andExpr -> andExpr "and" notExpr {% ([l, op, r]) => B.binary(l, op, r) %}
  | notExpr {% id %}

# not a
notExpr -> "not" notExpr
  {% ([op, e]) => ({ kind: 'unary', op: 'not', operand: e, span: B.over(op, e) }) %}
  | cmpExpr {% id %}

# a > b (not associative)
cmpExpr -> addExpr (">" | ">=" | "<" | "<=" | "==" | "!=") addExpr
  {% ([l, [op], r]) => B.binary(l, op, r) %}
  | addExpr {% id %}

# a + b, a - b
addExpr -> addExpr ("+" | "-") mulExpr {% ([l, [op], r]) => B.binary(l, op, r) %}
  | mulExpr {% id %}

# a * b, a / b
mulExpr -> mulExpr ("*" | "/") unary {% ([l, [op], r]) => B.binary(l, op, r) %}
  | unary {% id %}

# -a
unary -> "-" unary
  {% ([op, e]) => ({ kind: 'unary', op: '-', operand: e, span: B.over(op, e) }) %}
  | primary {% id %}

# 0.9, NaN, Inf
primary -> %number {% ([t]) => B.num(t) %}
  | ("NaN" | "Inf") {% ([[t]]) => B.num(t) %}
# value
  | "value" {% ([t]) => ({ kind: 'valueRef', span: B.sp(t) }) %}
# ( expr )
  | "(" expr ")" {% ([open, inner, close]) => ({ kind: 'paren', inner, span: B.over(open, close) }) %}
# fn(args) [by|without (labels)]
  | call {% id %}
# metric{matchers}
  | selector {% id %}

call -> %name "(" args ")" grouping:?
  {% ([name, , args, close, g], _l, reject) => (B.RESERVED.has(name.value) ? reject :
       { kind: 'call', name: B.ident(name), args, grouping: g, span: B.over(name, g ?? close) }) %}

args -> null {% () => [] %}
  | expr ("," expr):* {% ([first, rest]) => B.list(first, rest) %}

# by (labels) | without (labels)
grouping -> ("by" | "without") labelList
  {% ([[kw], ll]) => ({ mode: kw.value, labels: ll.labels, span: B.over(kw, ll) }) %}

# metric or metric{matchers}
selector -> %name matcherBlock:?
  {% ([name, mb], _l, reject) => (B.RESERVED.has(name.value) ? reject :
       { kind: 'selector', metric: B.ident(name), matchers: mb ? mb.matchers : [], span: B.over(name, mb ?? name) }) %}

# ---------- receivers ----------

# receiver name { email to "a", "b" }
receiver -> "receiver" %name "{" channel:* "}"
  {% ([kw, name, , channels, close]) => ({ kind: 'receiver', name: B.ident(name), channels, span: B.over(kw, close) }) %}

# email|pagerduty|webhook followed by options
channel -> ("email" | "pagerduty" | "webhook") option:*
  {% ([[t], options]) => ({ kind: 'channel', type: B.ident(t), options, span: options.length ? B.over(t, options[options.length - 1]) : B.sp(t) }) %}

# key value, value
option -> %name optionValue ("," optionValue):*
  {% ([k, first, rest], _l, reject) => (B.CHANNELS.has(k.value) ? reject :
       { kind: 'option', key: B.ident(k), values: B.list(first, rest), span: B.over(k, B.list(first, rest).at(-1)) }) %}

optionValue -> %string {% ([t]) => B.str(t) %}
  | %duration {% ([t]) => B.dur(t) %}
  | %number {% ([t]) => B.num(t) %}
  | %name {% ([t], _l, reject) => (t.value === 'env' || B.CHANNELS.has(t.value) ? reject : B.ident(t)) %}
# env("NAME")
  | "env" "(" %string ")"
  {% ([kw, , s, close]) => ({ kind: 'env', name: B.str(s), span: B.over(kw, close) }) %}

# ---------- routes and inhibitions ----------

# route { match {...} notify a, b ... }
route -> "route" "{" routeItem:* "}"
  {% ([kw, , items, close]) => ({ kind: 'route', items, span: B.over(kw, close) }) %}

# match { matchers }
routeItem -> "match" matcherBlock
  {% ([kw, mb]) => ({ kind: 'match', matchers: mb.matchers, span: B.over(kw, mb) }) %}
# notify a, b
  | "notify" %name ("," %name):*
  {% ([kw, first, rest]) => { const r = B.list(first, rest); return { kind: 'notify', receivers: r.map(B.ident), span: B.over(kw, r.at(-1)) }; } %}
# group by (labels)
  | "group" "by" labelList
  {% ([kw, , ll]) => ({ kind: 'group_by', labels: ll.labels, span: B.over(kw, ll) }) %}
# group_wait D | group_interval D | repeat_interval D
  | ("group_wait" | "group_interval" | "repeat_interval") %duration
  {% ([[kw], d]) => ({ kind: kw.value, value: B.dur(d), span: B.over(kw, d) }) %}
# continue
  | "continue" {% ([kw]) => ({ kind: 'continue', span: B.sp(kw) }) %}

# inhibit { source {...} target {...} equal (labels) }
inhibit -> "inhibit" "{" inhibitItem:* "}"
  {% ([kw, , items, close]) => ({ kind: 'inhibit', items, span: B.over(kw, close) }) %}

inhibitItem -> ("source" | "target") matcherBlock
  {% ([[kw], mb]) => ({ kind: kw.value, matchers: mb.matchers, span: B.over(kw, mb) }) %}
  | "equal" labelList
  {% ([kw, ll]) => ({ kind: 'equal', labels: ll.labels, span: B.over(kw, ll) }) %}
